"""Staff API shapes of the pricing rules: tax rates and vouchers (shipping zones: shipping.py).
Voucher names are the ones integrators script against (issue 26):
code, kind, value, usage_limit, usage_limit_per_customer, min_subtotal, starts_at, ends_at;
null means no limit. `used_count` is counted by checkout and never written here."""
from decimal import Decimal

from rest_framework import serializers

from catalog.models import Category, Product
from promotions.models import TaxRate, Voucher
from promotions.services import MAX_BATCH, voucher_errors
from shop.api_base import StrictJSONModelSerializer, StrictJSONSerializer

MAX_COUNT = 2**31 - 1  # PostgreSQL integer


class VoucherSerializer(StrictJSONModelSerializer):
    """A voucher: `value` is a percentage (10 for 10 %, at most 100) or an amount in the shop's
    currency; unused for `free_shipping`. `products`/`categories` (ids) limit it to those products
    and categories (with those below them); both empty: every product."""

    code = serializers.RegexField(r"^[A-Za-z0-9_-]{1,64}$", max_length=64,
                                  help_text="Letters, digits, - and _; stored in capitals, matched in any case.")
    value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False,
                                     default=Decimal("0"))
    min_subtotal = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"),
                                            allow_null=True, required=False, default=None)
    usage_limit = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, allow_null=True, required=False,
                                           default=None, help_text="Orders in all; null: no limit.")
    usage_limit_per_customer = serializers.IntegerField(min_value=1, max_value=MAX_COUNT, allow_null=True,
                                                        required=False, default=None)

    class Meta:
        model = Voucher
        fields = ["id", "code", "kind", "value", "min_subtotal", "starts_at", "ends_at", "usage_limit",
                  "usage_limit_per_customer", "new_customers_only", "products", "categories", "is_active",
                  "used_count", "created_at"]
        read_only_fields = ["id", "used_count", "created_at"]

    def validate_code(self, code: str) -> str:
        code = code.upper()
        taken = Voucher.objects.filter(code=code)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError("A voucher with this code exists.")
        return code

    def validate(self, attrs: dict) -> dict:
        merged = {**({f: getattr(self.instance, f) for f in self.Meta.fields} if self.instance else {}), **attrs}
        errors = {field: [message] for field, message in voucher_errors(
            kind=merged.get("kind"), value=merged.get("value"), starts_at=merged.get("starts_at"),
            ends_at=merged.get("ends_at")).items()}
        if self.instance is not None and merged.get("usage_limit") is not None \
                and merged["usage_limit"] < self.instance.used_count:
            errors["usage_limit"] = [f"Already used {self.instance.used_count} times."]
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class TaxRateSerializer(StrictJSONModelSerializer):
    """The tax on goods of a tax class (standard, reduced, zero) delivered to a country."""

    country = serializers.RegexField(r"^[A-Za-z]{2}$", max_length=2, help_text="ISO 3166-1 alpha-2, e.g. GB.")
    rate = serializers.DecimalField(max_digits=5, decimal_places=4, min_value=Decimal("0"), max_value=Decimal("1"),
                                    help_text="A fraction: 0.2000 for 20 %.")

    class Meta:
        model = TaxRate
        fields = ["id", "country", "tax_class", "rate", "name"]
        read_only_fields = ["id"]
        validators: list = []  # validate() names the field instead of DRF's non_field_errors

    def validate_country(self, country: str) -> str:
        return country.upper()

    def validate(self, attrs: dict) -> dict:
        country = attrs.get("country", getattr(self.instance, "country", None))
        tax_class = attrs.get("tax_class", getattr(self.instance, "tax_class", "standard"))
        taken = TaxRate.objects.filter(country=country, tax_class=tax_class)
        if self.instance is not None:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise serializers.ValidationError({"tax_class": [f"{country} has a {tax_class} rate already."]})
        return attrs


class BulkVoucherSerializer(StrictJSONSerializer):
    """A batch of single-use codes (POST /api/v1/vouchers/bulk/): `count` codes `prefix` + 8
    unambiguous characters, each usable once, all with the same kind, value, minimum, window and
    product/category limits."""

    prefix = serializers.RegexField(r"^[A-Za-z0-9_-]{0,20}$", max_length=20, required=False, default="",
                                    allow_blank=True, help_text="Up to 20 letters, digits, - and _.")
    count = serializers.IntegerField(min_value=1, max_value=MAX_BATCH)
    kind = serializers.ChoiceField(choices=Voucher.Kind.choices)
    value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"), required=False,
                                     default=Decimal("0"))
    min_subtotal = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=Decimal("0"),
                                            allow_null=True, required=False, default=None)
    starts_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
    ends_at = serializers.DateTimeField(allow_null=True, required=False, default=None)
    products = serializers.PrimaryKeyRelatedField(queryset=Product.objects.all(), many=True, required=False,
                                                  default=list)
    categories = serializers.PrimaryKeyRelatedField(queryset=Category.objects.all(), many=True, required=False,
                                                    default=list)

    def validate(self, attrs: dict) -> dict:
        errors = voucher_errors(kind=attrs["kind"], value=attrs.get("value"), starts_at=attrs.get("starts_at"),
                                ends_at=attrs.get("ends_at"))
        if errors:
            raise serializers.ValidationError({field: [message] for field, message in errors.items()})
        return attrs


class BulkVoucherResultSerializer(serializers.Serializer):
    """The codes made, in code order."""

    count = serializers.IntegerField()
    codes = serializers.ListField(child=serializers.CharField())
