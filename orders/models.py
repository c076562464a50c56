"""Carts, orders and order lines.

A cart holds variant ids and quantities only; prices are read from the catalogue whenever the cart
is shown. An order keeps a snapshot of every line (name, SKU, options, unit price) and its totals,
all `Decimal` in the order's `currency`.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.db.models import Q
from django.db.models.functions import Lower
from django.urls import reverse

from catalog.models import Variant
from shop.sources import SOURCE_MAX_LENGTH, Source

from .addresses import format_lines


class Cart(models.Model):
    """A shopper's cart. A guest's cart is found through its id in the session; a customer's
    cart is found by `customer` (one open cart each) and survives logging out."""

    customer = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="cart", on_delete=models.CASCADE
    )
    voucher_code = models.CharField(max_length=64, blank=True, db_default="",
                                    help_text="The code the shopper entered; checked whenever the cart is priced.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"Cart {self.pk} ({self.customer or 'guest'})"


class CartLine(models.Model):
    """One variant in a cart, with how many units the shopper wants."""

    cart = models.ForeignKey(Cart, related_name="lines", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, related_name="cart_lines", on_delete=models.CASCADE)
    quantity = models.PositiveIntegerField()
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "variant"], name="cart_line_unique_variant"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]


class Order(models.Model):
    """A placed order. Totals are computed on the server when it is placed and never change."""

    class Status(models.TextChoices):
        PENDING_PAYMENT = "pending_payment", "Pending payment"
        PAID = "paid", "Paid"
        FULFILLED = "fulfilled", "Shipped"
        DELIVERED = "delivered", "Delivered"
        CANCELLED = "cancelled", "Cancelled"
        REFUNDED = "refunded", "Refunded"

    number = models.CharField(max_length=32, unique=True)
    customer = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, related_name="orders", on_delete=models.PROTECT
    )
    email = models.EmailField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING_PAYMENT, db_index=True)
    currency = models.CharField(max_length=3)

    shipping_name = models.CharField(max_length=200)
    shipping_line1 = models.CharField("address line 1", max_length=255)
    shipping_line2 = models.CharField("address line 2", max_length=255, blank=True)
    shipping_city = models.CharField("city", max_length=100)
    shipping_postcode = models.CharField("postcode", max_length=20)
    shipping_region = models.CharField("state / province", max_length=100, blank=True, db_default="",
                                       help_text="The country's code or name of it (\"CA\", \"Dublin\"); blank where "
                                                 "the country has none.")
    shipping_country = models.CharField("country", max_length=2, help_text="ISO 3166-1 alpha-2 code.")
    phone = models.CharField(max_length=32, blank=True)
    billing_address = models.JSONField(
        default=dict, blank=True, db_default={},
        help_text='{"name", "line1", "line2", "city", "postcode", "country", "phone"}; empty when billing '
                  "goes to the shipping address.")

    shipping_method = models.CharField(max_length=32)
    shipping_method_name = models.CharField(max_length=100)
    shipping_price = models.DecimalField(max_digits=10, decimal_places=2)
    subtotal = models.DecimalField(max_digits=12, decimal_places=2, help_text="The lines before discount.")
    # As priced by orders.pricing when placed (issue 26): total = subtotal - discount + shipping (+ tax
    # when prices_include_tax is false); each amount is the sum of its line parts to the cent.
    discount_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), db_default=0)
    shipping_tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), db_default=0)
    tax_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), db_default=0,
                                    help_text="Tax on the lines and shipping.")
    prices_include_tax = models.BooleanField(default=False, db_default=False,
                                             help_text="Whether the amounts above include the tax.")
    voucher_code = models.CharField(max_length=64, blank=True, db_default="")
    price_explanation = models.CharField(max_length=500, blank=True, db_default="",
                                         help_text='How the total came about, e.g. "$57.00 − 10% SPRING10 = $51.30".')
    total = models.DecimalField(max_digits=12, decimal_places=2)

    payment_provider = models.CharField(max_length=32)
    payment_reference = models.CharField(max_length=64, blank=True)
    tracking_number = models.CharField(max_length=64, blank=True, help_text="Carrier tracking number, set when shipped.")
    idempotency_key = models.CharField(
        max_length=64, unique=True, help_text="One key per checkout attempt; a repeat returns the same order."
    )
    request_hash = models.CharField(
        max_length=64, blank=True, editable=False, db_default="",  # bulk loads (import_orders) leave it out
        help_text="SHA-256 of the API request body that placed it; a reused Idempotency-Key must match.")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    # Stored when the order is placed (lines never change), so that lists never sum lines per row.
    item_count = models.PositiveIntegerField(default=0, db_default=0, help_text="Units over all lines.")
    line_count = models.PositiveIntegerField(default=0, db_default=0, help_text="Number of order lines.")
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, choices=Source.choices, default=Source.WEB,
                              db_default=Source.WEB, help_text="Placed on the web shop, or imported history.")

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="order_total_non_negative"),
        ]
        indexes = [
            # The admin's default list (live shop, newest first) and its filters: each an index
            # range read in the list's order, so a page costs the same over 10 or 10 million orders.
            # Email search has a trigram index on PostgreSQL (migration 0005).
            models.Index(fields=["source", "-created_at", "-id"], name="order_source_newest"),
            models.Index(fields=["source", "status", "-created_at"], name="order_source_status"),
            models.Index(fields=["source", "shipping_country", "-created_at"], name="order_source_country"),
            models.Index(fields=["source", "shipping_method", "-created_at"], name="order_source_shipping"),
            models.Index(fields=["source", "payment_provider", "-created_at"], name="order_source_provider"),
            models.Index(fields=["customer", "-created_at"], name="order_customer_newest"),
            # The same filters over everything (?source=all): without them a filter on a common
            # value sorts every matching order (SQLite) for each page of 50.
            models.Index(fields=["status", "-created_at", "-id"], name="order_status_newest"),
            models.Index(fields=["shipping_country", "-created_at", "-id"], name="order_country_newest"),
            models.Index(fields=["shipping_method", "-created_at", "-id"], name="order_shipping_newest"),
            models.Index(fields=["payment_provider", "-created_at", "-id"], name="order_provider_newest"),
            # Admin search by a whole email address, whatever its case (OrderAdmin.get_search_results).
            models.Index(Lower("email"), name="order_email_lower"),
        ]

    def __str__(self) -> str:
        return self.number

    def get_absolute_url(self) -> str:
        return reverse("orders:order_detail", kwargs={"number": self.number})

    @property
    def shipping_address_lines(self) -> list[str]:
        """The shipping address as its country writes it, one string per line (orders.addresses)."""
        return format_lines(name=self.shipping_name, line1=self.shipping_line1, line2=self.shipping_line2,
                            city=self.shipping_city, postcode=self.shipping_postcode, region=self.shipping_region,
                            country=self.shipping_country)

    @property
    def billing_address_or_none(self) -> dict | None:
        """The billing address, or None when it is the shipping address."""
        return self.billing_address or None


class OrderStatusChange(models.Model):
    """One step of an order's timeline: who moved it from one status to another, and when."""

    order = models.ForeignKey(Order, related_name="status_changes", on_delete=models.CASCADE)
    from_status = models.CharField(max_length=20, choices=Order.Status.choices, blank=True,
                                   help_text="Blank for the order's first status.")
    to_status = models.CharField(max_length=20, choices=Order.Status.choices)
    changed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL, help_text="Blank when the shop itself made the change.")
    changed_at = models.DateTimeField(default=timezone.now, db_index=True)
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["order_id", "changed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.from_status or '-'} -> {self.to_status}"


class OrderLine(models.Model):
    """A snapshot of what was bought: it keeps its name, SKU and price if the catalogue changes."""

    order = models.ForeignKey(Order, related_name="lines", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, null=True, blank=True, related_name="order_lines", on_delete=models.SET_NULL)
    product_name = models.CharField(max_length=255)
    sku = models.CharField("SKU", max_length=64)
    options = models.JSONField(default=dict, blank=True, help_text='e.g. {"size": "M", "colour": "Gray"}')
    unit_price = models.DecimalField(max_digits=10, decimal_places=2)
    quantity = models.PositiveIntegerField()
    line_total = models.DecimalField(max_digits=12, decimal_places=2, help_text="unit_price x quantity.")
    discount = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), db_default=0)
    discount_reason = models.CharField(max_length=100, blank=True, db_default="", help_text='e.g. "10% SPRING10".')
    tax_rate = models.DecimalField(max_digits=5, decimal_places=4, default=Decimal("0"), db_default=0,
                                   help_text="A fraction: 0.2000 for 20 %.")
    tax = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0"), db_default=0)

    class Meta:
        ordering = ["order_id", "pk"]
        constraints = [models.CheckConstraint(condition=Q(quantity__gte=1), name="order_line_quantity_positive")]
        indexes = [models.Index(fields=["sku", "order"], name="order_line_sku")]  # admin search by SKU

    def __str__(self) -> str:
        return f"{self.quantity} x {self.sku}"

    @property
    def options_label(self) -> str:
        return " / ".join(str(value) for value in self.options.values())

