"""Catalogue API: product listing (the storefront's filters, search and sorting), product
detail by id or slug, the category tree, and staff create/update/delete of products, variants
and categories. Reads reuse catalog.selectors and catalog.filters.ProductFilter, so the API
lists exactly what the storefront lists, with the same fixed number of queries per page."""
from django.conf import settings
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.http import Http404, HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.response import Response

from catalog import listing_cache, selectors, services
from catalog.filters import ProductFilter
from catalog.models import Category, Product, Variant
from catalog.search import search_products
from shop.api_base import StrictPageNumberPagination, error_responses

from .serializers import (
    CategoryTreeSerializer, CategoryUpdateSerializer, CategoryWriteSerializer, ProductCardSerializer, ProductDetailSerializer,
    ProductWriteSerializer, VariantSerializer, VariantUpdateSerializer, VariantWriteSerializer,
)


class StaffWritesPermission(permissions.BasePermission):
    """Anyone may read; only staff may write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class ProductPagination(StrictPageNumberPagination):
    """settings.SHOP_PRODUCTS_PER_PAGE products a page (24 by default), as the storefront."""

    page_size_query_param = None

    def get_page_size(self, request) -> int:
        return settings.SHOP_PRODUCTS_PER_PAGE


UNKNOWN_CATEGORY = Category(name="(unknown)")


class ProductListQuery(serializers.Serializer):
    """Listing parameters, bounded so that a URL stays well under the 16 KB request line daphne
    (Twisted) accepts. Variant conditions (size, colour, price, in_stock) are applied by the
    storefront's catalog.filters.ProductFilter, together, to one variant."""

    category = serializers.CharField(required=False, max_length=200, allow_blank=True,
                                     help_text='A category path ("men/tops") or id, with its subcategories. '
                                               "An unknown category lists nothing.")
    search = serializers.CharField(required=False, max_length=200, allow_blank=True,
                                   help_text="Search words (full-text, typo tolerant on PostgreSQL); best match first.")
    ordering = serializers.ChoiceField(choices=list(selectors.SORTS), required=False,
                                       help_text="Sort order; by name unless searching (then best match).")
    size = serializers.ListField(child=serializers.CharField(max_length=32, allow_blank=True, trim_whitespace=False),
                                 required=False, max_length=10,
                                 help_text="Variant sizes, e.g. M (repeat the parameter for more).")
    colour = serializers.ListField(child=serializers.CharField(max_length=32, allow_blank=True, trim_whitespace=False),
                                   required=False, max_length=10,
                                   help_text="Variant colours, e.g. Gray (repeat the parameter for more).")
    min_price = serializers.FloatField(required=False, min_value=0, max_value=99_999_999,
                                       help_text="Lowest selling price, in the shop currency.")
    max_price = serializers.FloatField(required=False, min_value=0, max_value=99_999_999,
                                       help_text="Highest selling price, in the shop currency.")
    in_stock = serializers.BooleanField(required=False, help_text="Only products with a matching variant in stock.")
    page = serializers.IntegerField(required=False, min_value=1, help_text="Page number (24 products a page).")

    def validate_category(self, value: str) -> Category | None:
        value = value.strip().strip("/")
        if not value:
            return None
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 18 else {"path": value}
        return Category.objects.filter(is_visible=True, **lookup).first() or UNKNOWN_CATEGORY

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):  # repeated query parameters
            data = {key: data.getlist(key) if key in ("size", "colour") else data.get(key) for key in data}
        return super().to_internal_value(data)

    def filter_data(self) -> dict:
        """The validated values as ProductFilter's form data."""
        params = self.validated_data
        data = {key: [v for v in params.get(key, []) if v] for key in ("size", "colour")}
        for key in ("min_price", "max_price"):
            if key in params:
                data[key] = str(params[key])
        if params.get("in_stock"):
            data["in_stock"] = "true"
        if "ordering" in params:
            data["sort"] = params["ordering"]
        return data


PRODUCT_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The product's id or slug.")


@extend_schema_view(
    list=extend_schema(parameters=[ProductListQuery], responses={200: ProductCardSerializer(many=True),
                                                              **error_responses(400, 404, 429)}),
    retrieve=extend_schema(parameters=[PRODUCT_ID], responses={200: ProductDetailSerializer,
                                                               **error_responses(404, 429)}),
    create=extend_schema(request=ProductWriteSerializer,
                         responses={201: ProductDetailSerializer, **error_responses(400, 401, 403, 429)}),
    partial_update=extend_schema(parameters=[PRODUCT_ID], request=ProductWriteSerializer,
                                 responses={200: ProductDetailSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(parameters=[PRODUCT_ID], responses={204: None, **error_responses(401, 403, 404, 409, 429)}),
)
class ProductViewSet(viewsets.ModelViewSet):
    """Products: anyone lists and reads visible ones; staff create, update and delete."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, StaffWritesPermission]
    pagination_class = ProductPagination
    filter_backends: list = []
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Product.objects.none()  # see get_queryset

    def get_serializer_class(self):
        if self.action in ("create", "partial_update", "update"):
            return ProductWriteSerializer
        return ProductDetailSerializer if self.action == "retrieve" else ProductCardSerializer

    def list(self, request, *args, **kwargs):
        """A page of product cards, served from catalog.listing_cache while the catalogue is
        unchanged: the JSON bytes as rendered the first time (the browsable API renders afresh)."""
        seconds = listing_cache.lifetime()
        if not seconds or request.accepted_renderer.format != "json":
            return super().list(request, *args, **kwargs)
        key = listing_cache.cache_key("api-products", request.query_params, request.get_host(),
                                      request.accepted_media_type or "")
        body = cache.get(key)
        if body is None:
            response = super().list(request, *args, **kwargs)
            body = request.accepted_renderer.render(response.data, request.accepted_media_type,
                                                    {"request": request, "response": response, "view": self})
            cache.set(key, body, seconds)
        return HttpResponse(body, content_type=request.accepted_media_type or "application/json")

    def get_queryset(self):
        query = ProductListQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        base = Product.objects.visible()
        if category := params.get("category"):
            base = base.none() if category is UNKNOWN_CATEGORY else base.in_category(category)
        default_sort = selectors.DEFAULT_SORT
        if params.get("search", "").strip():
            base = search_products(base, params["search"])
            default_sort = selectors.RELEVANCE
        data = query.filter_data()
        # The chosen sizes and colours are the choices: one not in the catalogue matches nothing.
        facets = selectors.Facets(sizes=data["size"], colours=data["colour"])
        filterset = ProductFilter(data, queryset=selectors.product_cards(base), facets=facets,
                                  default_sort=default_sort, prices_as_shown=False)  # the API shows entered prices
        if not filterset.is_valid():
            raise serializers.ValidationError(filterset.errors)
        return filterset.qs

    def get_object(self):
        value = self.kwargs["pk"]
        if self.action == "retrieve":
            slug = value
            if value.isdigit():
                slug = Product.objects.filter(pk=int(value) if len(value) < 18 else 0).values_list("slug", flat=True).first()
            try:
                return selectors.product_detail(slug or "", include_hidden=self.request.user.is_staff)
            except Product.DoesNotExist:
                raise Http404("No such product.") from None
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 18 else {"slug": value}
        product = Product.objects.filter(**lookup).first()  # staff: hidden products too
        if product is None:
            raise Http404("No such product.")
        return product

    def _detail(self, product: Product, status_code: int) -> Response:
        product = selectors.product_detail(product.slug, include_hidden=True)  # what GET shows
        return Response(ProductDetailSerializer(product, context=self.get_serializer_context()).data,
                        status=status_code)

    def create(self, request, *args, **kwargs):
        return self._save(ProductWriteSerializer(data=request.data), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        return self._save(ProductWriteSerializer(self.get_object(), data=request.data, partial=True), status.HTTP_200_OK)

    def _save(self, data: ProductWriteSerializer, status_code: int) -> Response:
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                product = data.save()
        except IntegrityError:  # a concurrent write took the SKU or slug
            return Response({"detail": "A product with this SKU or slug already exists.", "code": "invalid",
                             "fields": {"sku": ["Already taken."]}}, status=400)
        return self._detail(product, status_code)

    def destroy(self, request, *args, **kwargs):
        product = self.get_object()
        try:
            with transaction.atomic():
                product.delete()
        except ProtectedError:
            return Response({"detail": "This product is referenced and cannot be deleted; hide it instead.",
                             "code": "protected", "fields": {}}, status=409)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    list=extend_schema(responses={200: VariantSerializer(many=True), **error_responses(401, 403, 404, 429)}),
    retrieve=extend_schema(responses={200: VariantSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(request=VariantWriteSerializer,
                         responses={201: VariantSerializer, **error_responses(400, 401, 403, 429)}),
    partial_update=extend_schema(request=VariantUpdateSerializer,
                                 responses={200: VariantSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class VariantViewSet(mixins.CreateModelMixin, mixins.RetrieveModelMixin, mixins.UpdateModelMixin,
                     mixins.DestroyModelMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Variants (staff): create, read, update and delete; stock and availability changes broadcast
    through catalog.services.save_variant. Listing is paginated by product page size."""

    permission_classes = [permissions.IsAdminUser]
    queryset = Variant.objects.select_related("product").order_by("pk")
    pagination_class = ProductPagination
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return {"create": VariantWriteSerializer, "partial_update": VariantUpdateSerializer}.get(
            self.action, VariantSerializer)

    def create(self, request, *args, **kwargs):
        data = VariantWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = services.save_variant(variant=Variant(**data.validated_data), changed_fields=["stock"])
        return Response(VariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        variant = self.get_object()
        data = VariantUpdateSerializer(variant, data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        for field, value in data.validated_data.items():
            setattr(variant, field, value)
        services.save_variant(variant=variant, changed_fields=list(data.validated_data))
        return Response(VariantSerializer(variant).data)

    def perform_destroy(self, variant: Variant) -> None:
        with transaction.atomic():
            variant_id = variant.pk
            variant.delete()
            services.broadcast_stock(variant_ids=[variant_id])


@extend_schema_view(
    list=extend_schema(responses={200: CategoryTreeSerializer(many=True), **error_responses(429)}),
    create=extend_schema(request=CategoryWriteSerializer,
                         responses={201: CategoryWriteSerializer, **error_responses(400, 401, 403, 429)}),
    partial_update=extend_schema(request=CategoryUpdateSerializer,
                                 responses={200: CategoryUpdateSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The visible category tree (one query); staff create, update and delete categories."""

    permission_classes = [permissions.IsAuthenticatedOrReadOnly, StaffWritesPermission]
    queryset = Category.objects.order_by("depth", "position", "name", "pk")
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_serializer_class(self):
        return CategoryUpdateSerializer if self.action == "partial_update" else CategoryWriteSerializer

    def list(self, request, *args, **kwargs):
        categories = list(Category.objects.filter(is_visible=True).order_by("depth", "position", "name", "pk"))
        children: dict[int, list[Category]] = {}
        shown = {c.pk for c in categories}
        for category in categories:
            if category.parent_id in shown:
                children.setdefault(category.parent_id, []).append(category)
        roots = [c for c in categories if c.parent_id is None]
        return Response(CategoryTreeSerializer(roots, many=True, context={"children": children}).data)
