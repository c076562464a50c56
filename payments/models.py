"""Payments of orders, their ledger and the provider events received (issue 25).

A Payment is one attempt to collect an order's total through a provider (a Stripe Checkout
Session and/or PaymentIntent). Money that really moved is in LedgerEntry rows (charges, refunds,
fees), each keyed by the provider's own id so that it is recorded once. PaymentEvent keeps every
webhook event by the provider's event id: an event is applied exactly once.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q, Sum
from django.db.models.functions import Coalesce

from orders.models import Order


def stripe_dashboard(path: str) -> str:
    """The Stripe dashboard URL of `path` ("payments/pi_...", "events/evt_..."), in test mode
    ("/test/") when STRIPE_SECRET_KEY is a test key."""
    test = settings.STRIPE_SECRET_KEY.startswith(("sk_test_", "rk_test_"))
    return f"https://dashboard.stripe.com/{'test/' if test else ''}{path}"


class PaymentQuerySet(models.QuerySet):
    def with_totals(self) -> "PaymentQuerySet":
        """Each payment annotated with its ledger sums (Decimal, 0 when none) in one query:
        charged_total, refunded_total, fees_total (failed entries left out, as Payment.totals)."""
        def total(kind):
            return Coalesce(Sum("ledger__amount", filter=Q(ledger__kind=kind) & ~Q(ledger__status="failed")),
                            Decimal("0"), output_field=models.DecimalField(max_digits=12, decimal_places=2))
        return self.annotate(charged_total=total("charge"), refunded_total=total("refund"), fees_total=total("fee"))


class Payment(models.Model):
    """One payment attempt for an order. Amounts are Decimal in `currency`."""

    class Status(models.TextChoices):
        CREATING = "creating", "Being created"
        ERROR = "error", "Could not be created"
        PENDING = "pending", "Waiting for the customer"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    class Flow(models.TextChoices):
        CHECKOUT = "checkout", "Hosted checkout page"
        INTENT = "intent", "PaymentIntent (API client)"

    order = models.ForeignKey(Order, related_name="payments", on_delete=models.PROTECT)
    provider = models.CharField(max_length=32)
    flow = models.CharField(max_length=16, choices=Flow.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.CREATING, db_index=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    intent_id = models.CharField("PaymentIntent id", max_length=255, null=True, blank=True, unique=True)
    session_id = models.CharField("Checkout Session id", max_length=255, null=True, blank=True, unique=True)
    client_secret = models.CharField(max_length=255, blank=True, help_text="For the API client's Stripe.js.")
    redirect_url = models.URLField(max_length=2000, blank=True, help_text="The hosted payment page.")
    error = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PaymentQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.provider} {self.intent_id or self.session_id or self.pk} ({self.status})"

    def idempotency_key(self) -> str:
        """The provider idempotency key of this attempt's creation (a retry is a new Payment)."""
        return f"ishop-payment-{self.pk}"

    def totals(self) -> dict[str, Decimal]:
        """{"charged", "refunded", "fees", "balance", "net"}: Decimal sums of the ledger; refunds
        count from the moment they are requested (pending) until they fail; balance = charged -
        refunded (what can still be refunded); net = balance - fees (what the shop keeps)."""
        sums = dict(self.ledger.exclude(status=LedgerEntry.Status.FAILED).values_list("kind")
                    .annotate(total=Sum("amount")).values_list("kind", "total"))
        charged = sums.get(LedgerEntry.Kind.CHARGE) or Decimal("0")
        refunded = sums.get(LedgerEntry.Kind.REFUND) or Decimal("0")
        fees = sums.get(LedgerEntry.Kind.FEE) or Decimal("0")
        return {"charged": charged, "refunded": refunded, "fees": fees, "balance": charged - refunded,
                "net": charged - refunded - fees}

    @property
    def dashboard_url(self) -> str:
        """The payment in the Stripe dashboard ("" for other providers)."""
        if self.provider != "stripe" or not self.intent_id:
            return ""
        return stripe_dashboard(f"payments/{self.intent_id}")


class LedgerEntry(models.Model):
    """Money that moved (or a refund asked for): a charge, a refund or a provider fee, a positive
    Decimal in the payment's currency."""

    class Kind(models.TextChoices):
        CHARGE = "charge", "Charge"
        REFUND = "refund", "Refund"
        FEE = "fee", "Fee"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    payment = models.ForeignKey(Payment, related_name="ledger", on_delete=models.PROTECT)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.SUCCEEDED)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.CharField(max_length=255, null=True, blank=True,
                                 help_text="The provider's id (charge, refund); unique per kind.")
    idempotency_key = models.CharField(max_length=255, null=True, blank=True, unique=True)
    note = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["payment_id", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="ledger_amount_positive"),
            models.UniqueConstraint(fields=["kind", "reference"], name="ledger_unique_reference"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.status})"


class PaymentEventQuerySet(models.QuerySet):
    def for_order(self, order: Order) -> "PaymentEventQuerySet":
        """The events about `order`'s payments, newest first, each with its payment (one query)."""
        return self.filter(payment__order=order).select_related("payment")


class PaymentEvent(models.Model):
    """A provider webhook event (or a reconciliation finding), applied at most once."""

    provider = models.CharField(max_length=32)
    event_id = models.CharField(max_length=255, unique=True)
    type = models.CharField(max_length=64)
    payment = models.ForeignKey(Payment, null=True, blank=True, related_name="events", on_delete=models.PROTECT)
    outcome = models.CharField(max_length=255, blank=True)
    payload = models.JSONField(default=dict)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = PaymentEventQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-pk"]

    def __str__(self) -> str:
        return f"{self.event_id} {self.type}"

    @property
    def dashboard_url(self) -> str:
        """The event in the Stripe dashboard ("" for other providers and reconciliation findings)."""
        return stripe_dashboard(f"events/{self.event_id}") if self.provider == "stripe" and \
            self.event_id.startswith("evt_") else ""
