"""Catalogue API: product listing (the storefront's filters, search and sorting), product
detail by id or slug, the category tree, and staff create/update/delete of products, variants
and categories. Reads reuse catalog.selectors and catalog.filters.ProductFilter, so the API
lists exactly what the storefront lists, with the same fixed number of queries per page."""
from django.conf import settings
from django.db import transaction
from django.db.models import ProtectedError
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, permissions, serializers, status, viewsets
from rest_framework.pagination import PageNumberPagination
from rest_framework.response import Response

from catalog import selectors, services
from catalog.filters import ProductFilter
from catalog.models import Category, Product, Variant
from catalog.search import search_products
from shop.api import error_responses

from .serializers import (
    CategoryTreeSerializer, CategoryWriteSerializer, ProductCardSerializer, ProductDetailSerializer,
    ProductWriteSerializer, VariantSerializer, VariantWriteSerializer,
)


class StaffWritesPermission(permissions.BasePermission):
    """Anyone may read; only staff may write."""

    def has_permission(self, request, view) -> bool:
        return request.method in permissions.SAFE_METHODS or bool(request.user and request.user.is_staff)


class ProductPagination(PageNumberPagination):
    """settings.SHOP_PRODUCTS_PER_PAGE products a page (24 by default), as the storefront."""

    page_size_query_param = None

    def get_page_size(self, request) -> int:
        return settings.SHOP_PRODUCTS_PER_PAGE


class ProductListQuery(serializers.Serializer):
    """Listing parameters beyond ProductFilter's (size, colour, min_price, max_price, in_stock)."""

    category = serializers.CharField(required=False, max_length=1000,
                                     help_text='A category path ("men/tops") or id; includes its subcategories.')
    search = serializers.CharField(required=False, max_length=200, allow_blank=True,
                                   help_text="Full-text search; results come best match first.")
    ordering = serializers.ChoiceField(choices=list(selectors.SORTS), required=False,
                                       help_text="Sort order; default name (best match when searching).")

    def validate_category(self, value: str) -> Category:
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 18 else {"path": value.strip("/")}
        category = Category.objects.filter(is_visible=True, **lookup).first()
        if category is None:
            raise serializers.ValidationError("No such category.")
        return category


LIST_PARAMETERS = [
    OpenApiParameter("category", str, description="Category path or id (with subcategories)."),
    OpenApiParameter("search", str, description="Search words (full-text, typo tolerant on PostgreSQL)."),
    OpenApiParameter("ordering", str, enum=list(selectors.SORTS), description="Sort order."),
    OpenApiParameter("size", str, many=True, description="Variant size, e.g. M (repeatable)."),
    OpenApiParameter("colour", str, many=True, description="Variant colour, e.g. Gray (repeatable)."),
    OpenApiParameter("min_price", OpenApiTypes.DECIMAL, description="Lowest selling price, in the shop currency."),
    OpenApiParameter("max_price", OpenApiTypes.DECIMAL, description="Highest selling price, in the shop currency."),
    OpenApiParameter("in_stock", bool, description="Only products with a matching variant in stock."),
]
PRODUCT_ID = OpenApiParameter("id", str, OpenApiParameter.PATH, description="The product's id or slug.")


@extend_schema_view(
    list=extend_schema(parameters=LIST_PARAMETERS, responses={200: ProductCardSerializer(many=True),
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

    permission_classes = [StaffWritesPermission]
    pagination_class = ProductPagination
    filter_backends: list = []
    lookup_value_regex = r"[^/]+"
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    queryset = Product.objects.none()  # see get_queryset

    def get_serializer_class(self):
        if self.action in ("create", "partial_update", "update"):
            return ProductWriteSerializer
        return ProductDetailSerializer if self.action == "retrieve" else ProductCardSerializer

    def get_queryset(self):
        query = ProductListQuery(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        base = Product.objects.visible()
        if category := params.get("category"):
            base = base.in_category(category)
        default_sort = selectors.DEFAULT_SORT
        if "search" in params:
            base = search_products(base, params["search"])
            default_sort = selectors.RELEVANCE
        data = self.request.query_params.copy()
        if "ordering" in params:
            data["sort"] = params["ordering"]
        else:
            data.pop("sort", None)
        filterset = ProductFilter(data, queryset=selectors.product_cards(base),
                                  facets=selectors.facets_for(base) if data.get("size") or data.get("colour") else None,
                                  default_sort=default_sort)
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
                return selectors.product_detail(slug or "")
            except Product.DoesNotExist:
                raise Http404("No such product.") from None
        lookup = {"pk": int(value)} if value.isdigit() and len(value) < 18 else {"slug": value}
        product = Product.objects.filter(**lookup).first()  # staff: hidden products too
        if product is None:
            raise Http404("No such product.")
        return product

    def _detail(self, product: Product, status_code: int) -> Response:
        product = Product.objects.prefetch_related("variants", "images__renditions", "categories").get(pk=product.pk)
        return Response(ProductDetailSerializer(product, context=self.get_serializer_context()).data,
                        status=status_code)

    def create(self, request, *args, **kwargs):
        data = ProductWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        return self._detail(data.save(), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        data = ProductWriteSerializer(self.get_object(), data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        return self._detail(data.save(), status.HTTP_200_OK)

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
    list=extend_schema(responses={200: VariantSerializer(many=True), **error_responses(401, 403, 429)}),
    retrieve=extend_schema(responses={200: VariantSerializer, **error_responses(401, 403, 404, 429)}),
    create=extend_schema(request=VariantWriteSerializer,
                         responses={201: VariantSerializer, **error_responses(400, 401, 403, 429)}),
    partial_update=extend_schema(request=VariantWriteSerializer,
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
        return VariantWriteSerializer if self.action in ("create", "partial_update") else VariantSerializer

    def create(self, request, *args, **kwargs):
        data = VariantWriteSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        variant = services.save_variant(variant=Variant(**data.validated_data), changed_fields=["stock"])
        return Response(VariantSerializer(variant).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        variant = self.get_object()
        data = VariantWriteSerializer(variant, data=request.data, partial=True)
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
    partial_update=extend_schema(request=CategoryWriteSerializer,
                                 responses={200: CategoryWriteSerializer, **error_responses(400, 401, 403, 404, 429)}),
    destroy=extend_schema(responses={204: None, **error_responses(401, 403, 404, 429)}),
)
class CategoryViewSet(mixins.ListModelMixin, mixins.CreateModelMixin, mixins.UpdateModelMixin,
                      mixins.DestroyModelMixin, viewsets.GenericViewSet):
    """The visible category tree (one query); staff create, update and delete categories."""

    permission_classes = [StaffWritesPermission]
    queryset = Category.objects.order_by("depth", "position", "name", "pk")
    serializer_class = CategoryWriteSerializer
    pagination_class = None
    filter_backends: list = []
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def list(self, request, *args, **kwargs):
        categories = list(Category.objects.filter(is_visible=True).order_by("depth", "position", "name", "pk"))
        children: dict[int, list[Category]] = {}
        shown = {c.pk for c in categories}
        for category in categories:
            if category.parent_id in shown:
                children.setdefault(category.parent_id, []).append(category)
        roots = [c for c in categories if c.parent_id is None]
        return Response(CategoryTreeSerializer(roots, many=True, context={"children": children}).data)
