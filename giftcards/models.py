"""Gift cards and their ledger (issue 26).

A GiftCard is a code with a balance in one currency. Its balance changes only through
giftcards.services, which locks the card row (SELECT ... FOR UPDATE) and writes a
GiftCardTransaction with the signed amount and the balance after it, so the ledger always adds up:
balance = sum of its transactions' amounts. A CHECK keeps every balance at or above zero.

A gift card is a payment, not a discount: an order's total and tax are what the pricing engine
said; the SPEND transactions of an order say how much of that total each card paid, and the rest
goes to the payment provider. Money is Decimal in the card's currency.
"""
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper


def normalize_code(code: str) -> str:
    """A code as stored and looked up: spaces and hyphens dropped, capitals ("abcd-efgh" -> "ABCDEFGH"),
    so a shopper may type it as printed, in groups, or run together."""
    return "".join((code or "").replace("-", " ").split()).upper()


class GiftCard(models.Model):
    """A code with a balance. `source_order` is the order that bought it (a gift-card product),
    `issued_by` the staff member who issued it by hand; either may be empty."""

    code = models.CharField(max_length=32, unique=True,
                            help_text="Stored in capitals without spaces or hyphens; matched the same way.")
    currency = models.CharField(max_length=3)
    initial_balance = models.DecimalField(max_digits=12, decimal_places=2)
    balance = models.DecimalField(max_digits=12, decimal_places=2, editable=False,
                                  help_text="Changed only through the ledger (giftcards.services).")
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    is_active = models.BooleanField(default=True, help_text="Untick to block a lost or stolen card.")
    issued_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                  on_delete=models.SET_NULL)
    source_order = models.ForeignKey("orders.Order", null=True, blank=True, related_name="gift_cards_bought",
                                     on_delete=models.PROTECT, help_text="The order that bought this card.")
    recipient_email = models.EmailField(blank=True, help_text="Where the code was emailed, if anywhere.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(Upper("code"), name="gift_card_code_unique_any_case"),
            models.CheckConstraint(condition=Q(balance__gte=0), name="gift_card_balance_non_negative"),
            models.CheckConstraint(condition=Q(initial_balance__gt=0), name="gift_card_initial_positive"),
        ]

    def __str__(self) -> str:
        return self.masked_code

    def save(self, *args, **kwargs):
        self.code = normalize_code(self.code)
        super().save(*args, **kwargs)

    @property
    def masked_code(self) -> str:
        """The code as shown beside an order's amounts: "****" and its last four characters."""
        return f"****{self.code[-4:]}"

    @property
    def grouped_code(self) -> str:
        """The code in groups of four, as emails print it ("7KQ2-M9XD-PL4T-WZ3H")."""
        return "-".join(self.code[i:i + 4] for i in range(0, len(self.code), 4))


class GiftCardTransaction(models.Model):
    """One change of a card's balance: `amount` is signed (issue and refund add, spend takes
    away, adjust either), `balance_after` the card's balance once it applied."""

    class Kind(models.TextChoices):
        ISSUE = "issue", "Issued"
        SPEND = "spend", "Spent on an order"
        REFUND = "refund", "Returned from an order"
        ADJUST = "adjust", "Adjusted by staff"

    card = models.ForeignKey(GiftCard, related_name="transactions", on_delete=models.PROTECT)
    order = models.ForeignKey("orders.Order", null=True, blank=True, related_name="gift_card_transactions",
                              on_delete=models.PROTECT)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    balance_after = models.DecimalField(max_digits=12, decimal_places=2)
    reference = models.CharField(max_length=255, null=True, blank=True, unique=True,
                                 help_text="Idempotency key of a refund, give-back or re-spend of an order.")
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, related_name="+",
                                   on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["card_id", "created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="gift_card_txn_balance_non_negative"),
            models.CheckConstraint(condition=~Q(amount=0), name="gift_card_txn_amount_not_zero"),
            models.CheckConstraint(condition=Q(kind="spend", amount__lt=0) | ~Q(kind="spend"),
                                   name="gift_card_spend_negative"),
            models.CheckConstraint(condition=Q(kind__in=["issue", "refund"], amount__gt=0)
                                   | ~Q(kind__in=["issue", "refund"]), name="gift_card_credit_positive"),
        ]
        indexes = [models.Index(fields=["order", "card"], name="gift_card_txn_by_order")]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount} ({self.card})"


class CartGiftCard(models.Model):
    """A gift card the shopper entered in their cart; spent (under its lock) when the order is placed."""

    cart = models.ForeignKey("orders.Cart", related_name="gift_cards", on_delete=models.CASCADE)
    card = models.ForeignKey(GiftCard, related_name="+", on_delete=models.CASCADE)
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["added_at", "pk"]
        constraints = [models.UniqueConstraint(fields=["cart", "card"], name="cart_gift_card_once")]


ZERO = Decimal("0")
