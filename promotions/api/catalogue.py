"""Staff API for catalogue promotions: /api/v1/promotions/ (list, create, read, change, delete).
A promotion takes effect on the variants' prices as soon as it is saved and running
(promotions.sales); placed orders keep the prices they were sold at."""
from decimal import Decimal

from rest_framework import serializers, viewsets

from catalog.models import Category, Product, Variant
from promotions.models import Promotion
from promotions.services import voucher_errors
from shop.api_base import StaffRulesAPI, StrictJSONModelSerializer, staff_rule_schema


class PromotionSerializer(StrictJSONModelSerializer):
    """A promotion: `value` is a percentage (20 for 20 %, at most 100) or an amount off each unit in
    the shop's currency, from `starts_at` (default: now) until `ends_at` (null: open-ended), on the
    `variants`, `products` and `categories` (ids; a category with those below it). `label` is what
    shoppers read ("Summer sale 20% off")."""

    value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"))
    variants = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Variant.objects.all())
    products = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Product.objects.all())
    categories = serializers.PrimaryKeyRelatedField(many=True, required=False, queryset=Category.objects.all())

    class Meta:
        model = Promotion
        fields = ["id", "name", "label", "kind", "value", "starts_at", "ends_at", "is_active", "variants", "products",
                  "categories", "created_at"]
        read_only_fields = ["id", "label", "created_at"]

    def validate(self, attrs: dict) -> dict:
        merged = {**({f: getattr(self.instance, f) for f in ("kind", "value", "starts_at", "ends_at")}
                     if self.instance else {}), **attrs}
        errors = voucher_errors(kind=merged.get("kind"), value=merged.get("value"),
                                starts_at=merged.get("starts_at"), ends_at=merged.get("ends_at"))
        if errors:
            raise serializers.ValidationError({field: [message] for field, message in errors.items()})
        return attrs


@staff_rule_schema(PromotionSerializer, destroy=True)
class PromotionViewSet(StaffRulesAPI, viewsets.ModelViewSet):
    """Catalogue promotions (staff): a percentage or amount off categories, products or variants
    for a while, without a code. The best running one for each variant sets its price."""

    serializer_class = PromotionSerializer
    queryset = Promotion.objects.prefetch_related("variants", "products", "categories").order_by("-starts_at", "-pk")
