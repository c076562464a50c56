"""Staff API shapes of the pricing rules: tax rates and vouchers (shipping zones: shipping.py). Voucher names are the ones integrators script against (issue 26):
code, kind, value, usage_limit, usage_limit_per_customer, min_subtotal, starts_at, ends_at;
null means no limit. `used_count` is counted by checkout and never written here."""
from decimal import Decimal

from rest_framework import serializers

from promotions.models import TaxRate, Voucher
from shop.api_base import StrictJSONModelSerializer

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
        errors = {}
        if merged.get("kind") == Voucher.Kind.PERCENTAGE and merged.get("value", 0) > 100:
            errors["value"] = ["A percentage is at most 100."]
        if merged.get("starts_at") and merged.get("ends_at") and merged["ends_at"] <= merged["starts_at"]:
            errors["ends_at"] = ["Must be after starts_at."]
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
