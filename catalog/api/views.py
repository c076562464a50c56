"""Catalogue API: the live-stock snapshot and stock changes for integrators."""
from django.db import transaction
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import permissions, serializers
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import services
from catalog.images import InvalidImage
from catalog.live import realtime
from catalog.live.consumers import MAX_SUBSCRIPTIONS
from catalog.models import Product, ProductImage, Variant
from shop.api_base import StrictJSONSerializer, error_responses


def variant_stock(variant: Variant) -> dict:
    """The same shape as a live `stock` message, so clients handle both alike."""
    return realtime.stock_payload(variant_id=variant.pk, product_id=variant.product_id, sku=variant.sku,
                                  stock=variant.stock, is_active=variant.is_active)


class InventorySnapshotQuery(serializers.Serializer):
    variants = serializers.RegexField(r"^[1-9][0-9]{0,17}(,[1-9][0-9]{0,17}){0,499}$", max_length=10_000,
                                      help_text="Comma-separated variant ids, at most 500.")

    def validate_variants(self, value: str) -> list[int]:
        try:
            ids = [int(part) for part in value.split(",") if part.strip()]
        except ValueError:
            raise serializers.ValidationError("Give variant ids as whole numbers separated by commas.") from None
        if not ids or any(i <= 0 for i in ids) or len(ids) > MAX_SUBSCRIPTIONS:
            raise serializers.ValidationError(f"Give 1 to {MAX_SUBSCRIPTIONS} positive variant ids.")
        return ids


class StockMessage(serializers.Serializer):
    """A `stock` message, as on the live WebSocket."""

    type = serializers.CharField()
    variant = serializers.IntegerField()
    product = serializers.IntegerField()
    sku = serializers.CharField()
    stock = serializers.IntegerField(help_text="Units on hand.")
    in_stock = serializers.BooleanField()
    ts = serializers.CharField(help_text="ISO 8601 time of the reading.")


class InventorySnapshotView(APIView):
    """GET /api/v1/inventory/?variants=1,2,3: current stock of each known variant.

    Answers {"variants": [stock message, ...]}; unknown ids and hidden products are left out. Pages call it after a
    reconnect so that a change missed while offline is not lost.
    """

    permission_classes = [permissions.AllowAny]

    @extend_schema(parameters=[OpenApiParameter(
        "variants", {"type": "array", "items": {"type": "integer", "minimum": 1, "maximum": 10**18 - 1},
                     "minItems": 1, "maxItems": MAX_SUBSCRIPTIONS},
        required=True, style="form", explode=False, description="Variant ids, comma-separated (1,2,3).")],
        operation_id="inventory_snapshot", tags=["catalogue"],
                   responses={200: inline_serializer("InventorySnapshot", {"variants": StockMessage(many=True)}),
                              **error_responses(400, 429)})
    def get(self, request: Request) -> Response:
        query = InventorySnapshotQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        variants = Variant.objects.filter(pk__in=query.validated_data["variants"],
                                          product__is_visible=True).order_by("pk")
        return Response({"variants": [variant_stock(v) for v in variants]})


class StockChange(StrictJSONSerializer):
    stock = serializers.IntegerField(required=False, min_value=0, max_value=2**31 - 1,
                                     help_text="New stock on hand, in units.")
    delta = serializers.IntegerField(required=False, min_value=-(2**31 - 1), max_value=2**31 - 1,
                                     help_text="Units to add (negative to remove).")

    def validate(self, attrs: dict) -> dict:
        if ("stock" in attrs) == ("delta" in attrs):
            raise serializers.ValidationError("Send exactly one of \"stock\" or \"delta\".")
        return attrs


class VariantStockView(APIView):
    """PATCH /api/v1/variants/{id}/stock/ (staff): set stock or apply a delta; broadcasts live."""

    permission_classes = [permissions.IsAdminUser]

    @extend_schema(request=StockChange, operation_id="variants_stock", tags=["catalogue"],
                   responses={200: StockMessage, **error_responses(400, 401, 403, 404, 409, 429)})
    def patch(self, request: Request, pk: int) -> Response:
        change = StockChange(data=request.data)
        change.is_valid(raise_exception=True)
        variant = get_object_or_404(Variant, pk=pk)
        try:
            with transaction.atomic():
                if "stock" in change.validated_data:
                    services.set_stock(variant=variant, stock=change.validated_data["stock"])
                else:
                    services.adjust_stock(variant=variant, delta=change.validated_data["delta"])
        except services.InsufficientStock as error:
            return Response({"detail": str(error), "code": "insufficient_stock",
                             "fields": {"delta": [str(error)]}}, status=409)
        return Response(variant_stock(variant))


class ProductImageUpload(serializers.Serializer):
    image = serializers.FileField(help_text="JPEG, PNG, WebP or GIF, at most SHOP_IMAGE_MAX_BYTES bytes.")
    alt_text = serializers.CharField(required=False, allow_blank=True, max_length=255)
    position = serializers.IntegerField(required=False, min_value=0, max_value=10_000)


class ProductImageUploadView(APIView):
    """POST /api/v1/products/{id}/images/ (staff, multipart): add a photo; renditions are made by
    a worker after commit. Answers 201 with the image's id and status ("pending")."""

    permission_classes = [permissions.IsAdminUser]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request={"multipart/form-data": ProductImageUpload}, operation_id="products_images_upload",
                   tags=["catalogue"],
                   responses={201: inline_serializer("UploadedImage", {
                       "id": serializers.IntegerField(), "product": serializers.IntegerField(),
                       "status": serializers.CharField(), "url": serializers.CharField(),
                       "width": serializers.IntegerField(allow_null=True),
                       "height": serializers.IntegerField(allow_null=True)}),
                       **error_responses(400, 401, 403, 404, 429)})
    def post(self, request: Request, pk: int) -> Response:
        upload = ProductImageUpload(data=request.data)
        upload.is_valid(raise_exception=True)
        product = get_object_or_404(Product, pk=pk)
        data = upload.validated_data
        image = ProductImage(product=product, alt_text=data.get("alt_text", ""),
                             position=data.get("position", product.images.count()))
        try:
            services.save_product_image(image=image, upload=data["image"])
        except InvalidImage as error:
            return Response({"detail": error.reason, "code": "invalid_image", "fields": {"image": [error.reason]}},
                            status=400)
        return Response({"id": image.pk, "product": product.pk, "status": image.status, "url": image.image.url,
                         "width": image.width, "height": image.height}, status=201)
