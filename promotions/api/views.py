"""Staff API for the pricing rules: /api/v1/vouchers/ (list, create, read, change; a voucher is
retired with `is_active: false`, never deleted: orders keep pointing at the uses they counted;
/api/v1/vouchers/bulk/ makes a batch of single-use codes),
/api/v1/tax-rates/ and /api/v1/shipping-zones/ (also delete: placed orders keep their own copy of
the rate and of the shipping method)."""
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from promotions.models import ShippingZone, TaxRate, Voucher
from promotions.services import InvalidVoucherBatch, generate_vouchers
from shop.api_base import JSONParser, StrictPageNumberPagination, error_responses

from .serializers import BulkVoucherResultSerializer, BulkVoucherSerializer, TaxRateSerializer, VoucherSerializer
from .shipping import ShippingZoneSerializer


class VoucherPagination(StrictPageNumberPagination):
    page_size = 50


@extend_schema_view(
    list=extend_schema(responses={200: VoucherSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: VoucherSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(responses={201: VoucherSerializer, **error_responses(400, 401, 403, 429)}),
    update=extend_schema(responses={200: VoucherSerializer, **error_responses(400, 401, 403, 404, 429)}),
    partial_update=extend_schema(responses={200: VoucherSerializer, **error_responses(400, 401, 403, 404, 429)}),
)
class VoucherViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin,
                     mixins.UpdateModelMixin, viewsets.GenericViewSet):
    """Vouchers (staff): codes for a percentage or amount off, or free shipping."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = VoucherSerializer
    pagination_class = VoucherPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"
    queryset = Voucher.objects.prefetch_related("products", "categories").order_by("-created_at", "-pk")

    @extend_schema(request=BulkVoucherSerializer,
                   responses={201: BulkVoucherResultSerializer, **error_responses(400, 401, 403, 429)})
    @action(detail=False, methods=["post"], url_path="bulk")
    def bulk(self, request):
        """Make a batch of single-use codes (promotions.services.generate_vouchers)."""
        batch = BulkVoucherSerializer(data=request.data)
        batch.is_valid(raise_exception=True)
        try:
            vouchers = generate_vouchers(**batch.validated_data)
        except InvalidVoucherBatch as problem:
            raise serializers.ValidationError({field: [message] for field, message in problem.errors.items()})
        return Response({"count": len(vouchers), "codes": [voucher.code for voucher in vouchers]},
                        status=status.HTTP_201_CREATED)


@extend_schema_view(
    list=extend_schema(responses={200: TaxRateSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: TaxRateSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(responses={201: TaxRateSerializer, **error_responses(400, 401, 403, 429)}),
    update=extend_schema(responses={200: TaxRateSerializer, **error_responses(400, 401, 403, 404, 429)}),
    partial_update=extend_schema(responses={200: TaxRateSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class TaxRateViewSet(viewsets.ModelViewSet):
    """Tax rates (staff), by country and tax class; no row means no tax."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = TaxRateSerializer
    pagination_class = VoucherPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"
    queryset = TaxRate.objects.order_by("country", "tax_class", "pk")


@extend_schema_view(
    list=extend_schema(responses={200: ShippingZoneSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: ShippingZoneSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(responses={201: ShippingZoneSerializer, **error_responses(400, 401, 403, 429)}),
    update=extend_schema(responses={200: ShippingZoneSerializer, **error_responses(400, 401, 403, 404, 429)}),
    partial_update=extend_schema(responses={200: ShippingZoneSerializer,
                                            **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class ShippingZoneViewSet(viewsets.ModelViewSet):
    """Shipping zones (staff) with their methods, weight bands and excluded products nested."""

    permission_classes = [permissions.IsAdminUser]
    serializer_class = ShippingZoneSerializer
    pagination_class = VoucherPagination
    parser_classes = [JSONParser]
    filter_backends: list = []
    lookup_value_regex = r"[0-9]{1,18}"
    queryset = ShippingZone.objects.prefetch_related("methods__bands", "methods__excluded_products") \
        .order_by("position", "pk")
