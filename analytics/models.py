"""Analytics: the raw event log, what the order-history import could not turn into orders, and the
daily rollups the staff dashboard and the API read.

Rollup rows are derived data: `analytics.rollups.rebuild(start=, end=)` deletes and recomputes a
range of days, so they never need a migration of their data. Money is `Decimal` in the row's
`currency` (ISO 4217); no row or sum ever mixes two currencies. A "day" is a calendar date in the
shop's TIME_ZONE.
"""
from decimal import Decimal

from django.db import models


class Event(models.Model):
    """One thing a shopper did, as in the WebShop POC seed's event schema: `event_type`,
    `timestamp`, `user_id` (None for a guest), `session_id` (the anonymous visitor id cookie, which
    survives logging in) and a small `data` dict (ids, a search query, a quantity)."""

    class Type(models.TextChoices):
        PRODUCT_VIEWED = "product_viewed"
        PRODUCT_LIST_VIEWED = "product_list_viewed"
        SEARCH = "search"
        CART_UPDATED = "cart_updated"
        CHECKOUT_STARTED = "checkout_started"
        ORDER_CREATED = "order_created"
        ORDER_CANCELLED = "order_cancelled"
        USER_REGISTERED = "user_registered"
        USER_LOGIN = "user_login"
        RECOMMENDATIONS_SHOWN = "recommendations_shown"  # a rail of recommendations (issue 27)

    event_type = models.CharField(max_length=32, choices=Type.choices)
    timestamp = models.DateTimeField(db_index=True)
    user_id = models.BigIntegerField(null=True, blank=True, help_text="accounts.User id; blank for a guest.")
    session_id = models.CharField(max_length=64, blank=True, help_text="Anonymous visitor id (cookie).")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["timestamp", "pk"]
        indexes = [models.Index(fields=["event_type", "timestamp"], name="analytics_event_type_ts"),
                   # a customer's recently viewed products (analytics.selectors.recently_viewed)
                   models.Index(fields=["user_id", "event_type", "-timestamp"], name="analytics_event_user_ts",
                                condition=models.Q(user_id__isnull=False))]

    def __str__(self) -> str:
        return f"{self.event_type} at {self.timestamp:%Y-%m-%d %H:%M:%S}"


class ImportAnomaly(models.Model):
    """A line of an imported order history that did not become an order line, kept whole so that
    nothing is silently dropped: stock adjustments (negative quantity outside a cancellation) and
    accounting adjustments (`A` invoices, "Adjust bad debt", with negative prices)."""

    class Kind(models.TextChoices):
        STOCK_ADJUSTMENT = "stock_adjustment", "Stock adjustment (negative quantity, not a cancellation)"
        ACCOUNTING_ADJUSTMENT = "accounting_adjustment", "Accounting adjustment (A invoice / negative price)"

    source = models.CharField(max_length=255, help_text="The imported file's name.")
    line_number = models.PositiveIntegerField(help_text="1 is the header; the first data line is 2.")
    kind = models.CharField(max_length=32, choices=Kind.choices)
    invoice_no = models.CharField(max_length=32)
    stock_code = models.CharField(max_length=64)
    quantity = models.IntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=3)
    raw = models.JSONField(help_text="The line as read, column -> text.")

    class Meta:
        verbose_name_plural = "import anomalies"
        ordering = ["source", "line_number"]
        constraints = [models.UniqueConstraint(fields=["source", "line_number"], name="import_anomaly_unique_line")]


class DailySales(models.Model):
    """Per day and currency: orders placed and their value, cancellations and refunds made that day.

    - `orders`, `gross_revenue`, `units`: sales orders created that day (credit notes are not
      sales), whatever happened to them later; units count catalogue items (lines with a variant).
    - `cancellations`/`cancelled_value`: orders moved to cancelled that day;
      `refunds`/`refunded_value`: orders moved to refunded that day, including imported credit notes.
    - `net_revenue` = gross_revenue - cancelled_value - refunded_value.
    - `customers`: distinct customers with a sales order that day, split into `new_customers` (their
      first sales order ever) and `returning_customers`; `guest_orders` had no account.
    """

    day = models.DateField()
    currency = models.CharField(max_length=3)
    orders = models.PositiveIntegerField(default=0)
    guest_orders = models.PositiveIntegerField(default=0)
    units = models.BigIntegerField(default=0)
    gross_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    cancellations = models.PositiveIntegerField(default=0)
    cancelled_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    refunds = models.PositiveIntegerField(default=0)
    refunded_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    net_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    customers = models.PositiveIntegerField(default=0)
    new_customers = models.PositiveIntegerField(default=0)
    returning_customers = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name_plural = "daily sales"
        ordering = ["day", "currency"]
        constraints = [models.UniqueConstraint(fields=["day", "currency"], name="daily_sales_unique_day")]

    @property
    def average_order_value(self) -> Decimal | None:
        """gross_revenue / orders, or None on a day without orders."""
        return (self.gross_revenue / self.orders).quantize(Decimal("0.01")) if self.orders else None


class DailyCustomer(models.Model):
    """Per day, currency and customer with a sales order that day: so that distinct customers over
    any period are one COUNT(DISTINCT) over rows of that period only. `is_new`: the day of the
    customer's first sales order ever."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    customer_id = models.BigIntegerField()
    orders = models.PositiveIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    is_new = models.BooleanField(default=False)

    class Meta:
        ordering = ["day", "currency", "customer_id"]
        constraints = [models.UniqueConstraint(fields=["day", "currency", "customer_id"], name="daily_customer_unique")]
        indexes = [models.Index(fields=["customer_id", "day"], name="daily_customer_first_day")]


class DailyProduct(models.Model):
    """Per day, product and currency: views and add-to-carts (from events; their rows carry the
    shop currency), and the product's sales: orders containing it, units, revenue; and units and
    value refunded or cancelled that day. `net_revenue` = revenue - returned_value."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    # No constraint and no index of its own: the unique (day, currency, product) index serves every
    # read, and a full rebuild inserts ~300,000 rows a year of history, each index costing seconds.
    product = models.ForeignKey("catalog.Product", related_name="+", on_delete=models.DO_NOTHING,
                                db_constraint=False, db_index=False)
    views = models.PositiveIntegerField(default=0)
    add_to_carts = models.PositiveIntegerField(default=0)
    orders = models.PositiveIntegerField(default=0)
    units = models.BigIntegerField(default=0)
    revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    returned_units = models.BigIntegerField(default=0)
    returned_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    net_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        ordering = ["day", "currency", "product_id"]
        constraints = [models.UniqueConstraint(fields=["day", "currency", "product"], name="daily_product_unique")]


class DailyCountry(models.Model):
    """Per day, currency and shipping country (ISO 3166-1 alpha-2, or the user-assigned codes in
    analytics.countries): sales orders and their value, refunds and net revenue."""

    day = models.DateField()
    currency = models.CharField(max_length=3)
    country = models.CharField(max_length=2)
    orders = models.PositiveIntegerField(default=0)
    gross_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    returned_value = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))
    net_revenue = models.DecimalField(max_digits=14, decimal_places=2, default=Decimal("0"))

    class Meta:
        verbose_name_plural = "daily countries"
        ordering = ["day", "currency", "country"]
        constraints = [models.UniqueConstraint(fields=["day", "currency", "country"], name="daily_country_unique")]


class DailyFunnel(models.Model):
    """Per day: distinct visitor sessions with any event, then those with a product view, an
    add-to-cart, a started checkout and a placed order. Conversion = ordered / sessions."""

    day = models.DateField(unique=True)
    sessions = models.PositiveIntegerField(default=0)
    viewed = models.PositiveIntegerField(default=0)
    carted = models.PositiveIntegerField(default=0)
    checkout = models.PositiveIntegerField(default=0)
    ordered = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day"]


class DailyRecommendation(models.Model):
    """Per day and recommendation rail (issue 27: "similar", "also_bought", "cart", ...): how often
    it was shown, and how many product views came from a click on it."""

    day = models.DateField()
    rail = models.CharField(max_length=32)
    shown = models.PositiveIntegerField(default=0)
    clicked = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day", "rail"]
        constraints = [models.UniqueConstraint(fields=["day", "rail"], name="daily_recommendation_unique")]


class RollupWatermark(models.Model):
    """The one row saying how far the rollups are final: every day up to and including
    `closed_through` was rebuilt from data read after that day had ended (plus
    analytics.rollups.CLOSE_GRACE for late writes). The days after it, today included, are the
    rollups still owed; `analytics.rollups.catch_up()` rebuilds them (a worker runs it when it
    starts, and beat every few minutes), so days missed while no worker ran are never lost."""

    closed_through = models.DateField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"rollups closed through {self.closed_through or 'nothing yet'}"
