"""Commerce rules that orders.pricing applies: tax rates by country and tax class, shipping zones
with their methods (flat, by weight band, free above a value), vouchers with their usage, and
catalogue promotions (no code: a sale on categories, products or variants for a while).

Money is Decimal in settings.SHOP_CURRENCY; rates are fractions (0.2000 for 20 %); weights kg.
Countries are ISO 3166-1 alpha-2 codes in capitals.
"""
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils import timezone

from catalog.models import Category, Product, TaxClass, Variant

from .postcodes import matches as postcode_matches

NON_NEGATIVE = [MinValueValidator(Decimal("0"))]


class TaxRate(models.Model):
    """The tax on goods of `tax_class` delivered to `country`. No row: no tax."""

    country = models.CharField(max_length=2, help_text="ISO 3166-1 alpha-2, e.g. GB.")
    tax_class = models.CharField(max_length=16, choices=TaxClass.choices, default=TaxClass.STANDARD)
    rate = models.DecimalField(max_digits=5, decimal_places=4,
                               validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
                               help_text="A fraction: 0.2000 for 20 %.")
    name = models.CharField(max_length=32, blank=True, help_text='Shown to shoppers, e.g. "VAT".')

    class Meta:
        ordering = ["country", "tax_class"]
        constraints = [
            models.UniqueConstraint(fields=["country", "tax_class"], name="tax_rate_unique_country_class"),
            models.CheckConstraint(condition=Q(rate__gte=0) & Q(rate__lte=1), name="tax_rate_fraction"),
        ]

    def __str__(self) -> str:
        return f"{self.country} {self.tax_class} {self.rate * 100:g}%"


class ShippingZone(models.Model):
    """Where methods ship to: `countries` (empty: the whole world), narrowed to `postcode_prefixes`
    when given (prefixes "BT" or ranges "BT1-BT99", "10000-19999": promotions.postcodes). An
    address takes the most specific zone that holds it (postcodes, then countries, then worldwide;
    ties by `position`)."""

    name = models.CharField(max_length=100)
    countries = models.JSONField(default=list, blank=True, help_text='["GB", "IE"]; empty for worldwide.')
    postcode_prefixes = models.JSONField(default=list, blank=True,
                                         help_text='Prefixes or ranges: ["BT", "HS", "KW1-KW17", "10000-19999"]; '
                                                   'empty for every postcode.')
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "pk"]

    def __str__(self) -> str:
        return self.name

    def holds(self, country: str, postcode: str) -> bool:
        """Whether the address (country code, postcode) is in this zone."""
        if self.countries and country.upper() not in self.countries:
            return False
        return not self.postcode_prefixes or any(postcode_matches(rule, postcode) for rule in self.postcode_prefixes)

    @property
    def specificity(self) -> int:
        return 2 if self.postcode_prefixes else 1 if self.countries else 0


class ShippingMethod(models.Model):
    """A way to ship within a zone: `price` flat, or by the weight bands when it has any; free when
    the goods (after discount) reach `free_above`. `code` is what checkout and the API send. A
    cart holding one of `excluded_products` (oversized, hazardous...) is not offered the method."""

    zone = models.ForeignKey(ShippingZone, related_name="methods", on_delete=models.CASCADE)
    code = models.SlugField(max_length=32)
    name = models.CharField(max_length=100)
    price = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE)
    free_above = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True, validators=NON_NEGATIVE,
                                     help_text="Free when the goods reach this value; empty: never free.")
    is_active = models.BooleanField(default=True)
    position = models.PositiveIntegerField(default=0)
    excluded_products = models.ManyToManyField(Product, related_name="+", blank=True,
                                               help_text="Products this method cannot take.")

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["zone", "code"], name="shipping_method_unique_code_per_zone")]

    def __str__(self) -> str:
        return f"{self.name} ({self.zone})"


class WeightBand(models.Model):
    """The method costs `price` for goods weighing up to `up_to` kg (the lightest band that fits)."""

    method = models.ForeignKey(ShippingMethod, related_name="bands", on_delete=models.CASCADE)
    up_to = models.DecimalField("up to (kg)", max_digits=8, decimal_places=3, validators=NON_NEGATIVE)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=NON_NEGATIVE)

    class Meta:
        ordering = ["method", "up_to"]
        constraints = [models.UniqueConstraint(fields=["method", "up_to"], name="weight_band_unique_limit")]

    def __str__(self) -> str:
        return f"<= {self.up_to} kg: {self.price}"


class Voucher(models.Model):
    """A code a shopper enters: a percentage or a fixed amount off the goods, or free shipping.
    Limited to `products` and/or `categories` (a category with those below it), it discounts only
    the cart's lines among them (free shipping: needs one such line); none of either: every line.
    Null limits mean none. `used_count` counts orders that used it; it is checked and raised under
    a row lock when an order is placed (promotions.services.redeem_voucher)."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"
        FREE_SHIPPING = "free_shipping", "Free shipping"

    code = models.CharField(max_length=64, unique=True, help_text="Matched without regard to case.")
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=10, decimal_places=2, default=Decimal("0"), validators=NON_NEGATIVE,
                                help_text="Percent (10 for 10 %) or an amount; unused for free shipping.")
    min_subtotal = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True,
                                       validators=NON_NEGATIVE)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    usage_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Orders in all; empty: no limit.")
    usage_limit_per_customer = models.PositiveIntegerField(null=True, blank=True)
    new_customers_only = models.BooleanField(default=False, help_text="Only for a first order.")
    products = models.ManyToManyField(Product, related_name="+", blank=True,
                                      help_text="Only these products (and the categories'); none: every product.")
    categories = models.ManyToManyField(Category, related_name="+", blank=True,
                                        help_text="Only products in these categories or below them.")
    used_count = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "pk"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="voucher_code_unique_any_case"),
            models.CheckConstraint(condition=Q(kind="percentage", value__lte=100) | ~Q(kind="percentage"),
                                   name="voucher_percentage_at_most_100"),
            models.CheckConstraint(condition=Q(usage_limit__isnull=True) | Q(used_count__lte=models.F("usage_limit")),
                                   name="voucher_used_within_limit"),
        ]

    def __str__(self) -> str:
        return self.code

    def save(self, *args, **kwargs):
        self.code = self.code.strip().upper()
        super().save(*args, **kwargs)


class VoucherRedemption(models.Model):
    """One order's use of a voucher (the per-customer limit counts these, by customer or email)."""

    voucher = models.ForeignKey(Voucher, related_name="redemptions", on_delete=models.PROTECT)
    order = models.OneToOneField("orders.Order", related_name="voucher_redemption", on_delete=models.CASCADE)
    customer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                 on_delete=models.SET_NULL)
    email = models.EmailField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["voucher", "customer"], name="voucher_use_by_customer"),
                   models.Index(fields=["voucher", "email"], name="voucher_use_by_email")]


class Promotion(models.Model):
    """A catalogue promotion: a percentage or a fixed amount off the price of the `variants`, the
    `products` and the products in the `categories` (or below them), from `starts_at` until
    `ends_at` (empty: open-ended), with no code. Where several run for one variant, the one giving
    the lowest price wins, and a variant's own sale price competes as one more rule
    (promotions.sales.apply_promotions writes the winner onto the variant, which
    catalog.models.selling_price reads). Amounts are Decimal in settings.SHOP_CURRENCY."""

    class Kind(models.TextChoices):
        PERCENTAGE = "percentage", "Percentage off"
        FIXED = "fixed", "Fixed amount off"

    name = models.CharField(max_length=100, help_text='Shown to shoppers, e.g. "Summer sale".')
    kind = models.CharField(max_length=16, choices=Kind.choices)
    value = models.DecimalField(max_digits=10, decimal_places=2, validators=NON_NEGATIVE,
                                help_text="Percent (20 for 20 %) or an amount off each unit.")
    starts_at = models.DateTimeField(default=timezone.now)
    ends_at = models.DateTimeField(null=True, blank=True, help_text="Empty: until switched off.")
    is_active = models.BooleanField(default=True)
    variants = models.ManyToManyField(Variant, related_name="+", blank=True)
    products = models.ManyToManyField(Product, related_name="+", blank=True)
    categories = models.ManyToManyField(Category, related_name="+", blank=True,
                                        help_text="Products in these categories or below them.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-starts_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(kind="percentage", value__lte=100) | ~Q(kind="percentage"),
                                   name="promotion_percentage_at_most_100"),
            models.CheckConstraint(condition=Q(value__gte=0), name="promotion_value_non_negative"),
            models.CheckConstraint(condition=Q(ends_at__isnull=True) | Q(ends_at__gt=models.F("starts_at")),
                                   name="promotion_ends_after_start"),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        """The admin's form errors: a percentage at most 100, an end after the start."""
        from .services import voucher_errors

        errors = voucher_errors(kind=self.kind, value=self.value, starts_at=self.starts_at, ends_at=self.ends_at)
        if errors:
            raise ValidationError(errors)

    @property
    def label(self) -> str:
        """How shoppers see it: "Summer sale 20% off" or "Summer sale $5.00 off"."""
        from shop.templatetags.shop import money

        off = f"{self.value.normalize():f}%" if self.kind == self.Kind.PERCENTAGE else money(self.value)
        return f"{self.name} {off} off"

    def price_for(self, price: Decimal) -> Decimal:
        """The promoted price of a unit priced `price`: never below zero, rounded half up to the cent."""
        if self.kind == self.Kind.PERCENTAGE:
            off = (price * self.value / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
        else:
            off = self.value
        return max(price - off, Decimal("0"))
