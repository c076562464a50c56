"""Payment services (issue 25): start a payment, apply provider events exactly once, refund,
expire unpaid orders. Views, the webhook, tasks, admin actions and commands call these.

Lock order, as at checkout and in orders.services.void_order: the order row first, then the
payment row, then variants in primary-key order. Every event is applied under the order's row
lock and recorded as a PaymentEvent (unique by the provider's event id) in the same transaction,
so a webhook delivered twice, or twenty times at once, is applied once.
"""
import logging
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog.services import InsufficientStock
from giftcards import services as gift_cards
from giftcards.selectors import amount_to_pay
from orders import services as orders
from orders.carts import CheckoutError
from orders.models import Order
from outbox import services as outbox
from webhooks import events as webhook_events

from .models import LedgerEntry, Payment, PaymentEvent
from .money import from_minor
from .providers import ProviderError, active_code, get_provider
from .providers.stripe import fee_of

logger = logging.getLogger(__name__)


class PaymentUnavailable(Exception):
    """The payment could not be started; the order stays reserved. The message is safe to show."""


class RefundRefused(Exception):
    """The refund is not possible (more than the balance, nothing paid). Safe to show."""


def start_payment(*, order: Order, flow: str, return_url: str = "", cancel_url: str = "") -> Payment:
    """Ask the active provider for a payment of `order` (pending payment), outside any database
    transaction: a Checkout Session (flow "checkout": redirect to payment.redirect_url) or a
    PaymentIntent (flow "intent": payment.client_secret). A payment of this order and flow still
    waiting for the customer is reused. Each attempt is a new Payment with its own idempotency key,
    so a retry after a provider error is a new request.

    The amount is what is left to pay once the order's gift cards paid their part
    (giftcards.selectors.amount_to_pay): the total when none was used.

    Raises PaymentUnavailable when the order is not pending payment or the provider fails (the
    Payment is kept with status error; the order stays pending, its stock held)."""
    if order.status != Order.Status.PENDING_PAYMENT:
        raise PaymentUnavailable(f"Order {order.number} is not waiting for a payment.")
    if not active_code():
        raise PaymentUnavailable("Payments are not set up in this shop yet. Your order is reserved.")
    live = order.payments.filter(flow=flow, status=Payment.Status.PENDING, provider=active_code()).first()
    if live is not None:
        return live
    payment = Payment.objects.create(order=order, provider=active_code(), flow=flow, amount=amount_to_pay(order),
                                     currency=order.currency)
    try:
        fields = get_provider(payment.provider).create_payment(payment, return_url=return_url, cancel_url=cancel_url)
    except ProviderError as error:
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.ERROR, error=str(error)[:255])
        logger.warning("Payment for order %s could not be started: %s", order.number, error)
        raise PaymentUnavailable("The payment service did not answer. Your order is reserved; "
                                 "please try the payment again.") from error
    for name, value in fields.items():
        setattr(payment, name, value)
    payment.status = Payment.Status.PENDING
    payment.save()
    return payment


# --- Events ----------------------------------------------------------------------------------

# Checkout sessions paid with a delayed method (SEPA debit, bank transfer...) complete unpaid, then
# report the outcome with checkout.session.async_payment_succeeded / _failed.
SUCCESS = {"checkout.session.completed", "checkout.session.async_payment_succeeded", "payment_intent.succeeded"}
FAILURE = {"payment_intent.payment_failed", "checkout.session.async_payment_failed", "checkout.session.expired"}
REFUND = {"charge.refunded"}


def _payment_for(event_type: str, obj: dict) -> Payment | None:
    payment_id = str((obj.get("metadata") or {}).get("payment_id") or "")
    if payment_id.isdigit():
        return Payment.objects.filter(pk=int(payment_id)).first()
    if event_type.startswith("checkout.session."):
        return Payment.objects.filter(session_id=obj.get("id")).first()
    intent_id = obj.get("id") if event_type.startswith("payment_intent.") else obj.get("payment_intent")
    return Payment.objects.filter(intent_id=intent_id).first() if intent_id else None


def apply_event(event: dict, *, provider: str) -> str:
    """Apply a provider event (Stripe's event JSON: id, type, data.object) once, and return what it
    did (a short sentence, also stored on its PaymentEvent). An event already applied returns
    "duplicate"; an event of another type, or about no payment of ours, is recorded as ignored.

    Out of order: a failure after a success changes nothing. A success for an order that expired
    takes its stock again if it is there, otherwise refunds at once (outbox) and emails the
    customer; a second success for an order already paid is refunded at once."""
    event_type, obj = event["type"], event["data"]["object"]
    payment = _payment_for(event_type, obj) if event_type in SUCCESS | FAILURE | REFUND else None
    if payment is None:
        try:
            with transaction.atomic():
                PaymentEvent.objects.get_or_create(event_id=event["id"], defaults={
                    "provider": provider, "type": event_type, "outcome": "ignored", "payload": event})
        except IntegrityError:
            pass
        return "ignored"
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        if PaymentEvent.objects.filter(event_id=event["id"]).exists():
            return "duplicate"
        if event_type in SUCCESS:
            outcome = _succeeded(order, payment, obj)
        elif event_type in FAILURE:
            outcome = _failed(order, payment, obj, expired=event_type == "checkout.session.expired")
        else:
            outcome = _refunded(order, payment, obj)
        PaymentEvent.objects.create(event_id=event["id"], provider=provider, type=event_type, payment=payment,
                                    outcome=outcome[:255], payload=event)
    logger.info("Payment event %s (%s) for order %s: %s", event["id"], event_type, order.number, outcome)
    return outcome


def _succeeded(order: Order, payment: Payment, obj: dict) -> str:
    fee = fee_of(obj.get("latest_charge"), payment.currency)  # an expanded charge (reconciliation)
    fee_added = bool(fee and get_provider(payment.provider).reports_fees and _add_fee(payment, *fee))
    if obj.get("object") == "checkout.session":
        if obj.get("payment_status") not in ("paid", "no_payment_required"):
            return "session completed, payment not yet confirmed"
        intent_id, minor = obj.get("payment_intent"), obj.get("amount_total")
    else:
        intent_id, minor = obj.get("id"), obj.get("amount_received") or obj.get("amount")
    if payment.status == Payment.Status.SUCCEEDED:
        return "already succeeded; its fee recorded" if fee_added else "already succeeded"
    payment.status, payment.error = Payment.Status.SUCCEEDED, ""
    payment.intent_id = payment.intent_id or intent_id
    payment.save(update_fields=["status", "error", "intent_id", "updated_at"])
    amount = from_minor(minor, payment.currency) if minor is not None else payment.amount
    LedgerEntry.objects.create(payment=payment, kind=LedgerEntry.Kind.CHARGE, amount=amount,
                               reference=payment.intent_id or payment.session_id)
    if get_provider(payment.provider).reports_fees and not payment.ledger.filter(kind=LedgerEntry.Kind.FEE).exists():
        outbox.enqueue(kind="payments.fee", payload={"payment_id": payment.pk})  # record_fee, after commit
    reference = payment.intent_id or payment.session_id
    if order.status == Order.Status.PENDING_PAYMENT:
        orders.mark_paid(order=order, reference=reference)
        return "order paid"
    if order.status == Order.Status.CANCELLED and not order.payment_reference:
        try:
            orders.revive_paid_order(order=order, reference=reference)
            return "paid after expiry: stock taken again, order paid"
        except (InsufficientStock, CheckoutError):
            _refund_at_once(payment, amount, note="paid after expiry; stock gone")
            orders._send_order_email(order, Order.Status.REFUNDED)
            return "paid after expiry, stock gone: refunded at once"
    _refund_at_once(payment, amount, note=f"order already {order.status}")
    return f"order already {order.status}: this payment refunded at once"


def _failed(order: Order, payment: Payment, obj: dict, *, expired: bool) -> str:
    if payment.status == Payment.Status.SUCCEEDED:
        return "ignored: failure after success"
    error = (obj.get("last_payment_error") or {}).get("message") or ("expired" if expired else "declined")
    payment.status, payment.error = Payment.Status.FAILED, str(error).rstrip(".")[:255]
    payment.save(update_fields=["status", "error", "updated_at"])
    webhook_events.payment_failed(payment=payment)  # issue 28, with the order, in this transaction
    if expired and order.status == Order.Status.PENDING_PAYMENT and not order.payments.filter(
            status__in=[Payment.Status.PENDING, Payment.Status.SUCCEEDED]).exists():
        orders.void_order(order=order, reason="the payment page expired")
        return "payment page expired: order cancelled, stock back"
    return f"payment failed: {payment.error}"


def _refunded(order: Order, payment: Payment, obj: dict) -> str:
    refunded = from_minor(obj.get("amount_refunded") or 0, payment.currency)
    missing = refunded - payment.totals()["refunded"]
    if missing > 0:
        LedgerEntry.objects.create(payment=payment, kind=LedgerEntry.Kind.REFUND, amount=missing,
                                   reference=f"{obj.get('id')}:{obj.get('amount_refunded')}",
                                   note="refunded at the provider")
    _refunded_in_full(order, payment)
    return f"refund of {missing} recorded" if missing > 0 else "refunds already recorded"


def _refunded_in_full(order: Order, payment: Payment | None, by=None) -> None:
    """Move `order` to refunded (stock back, email) once nothing is left on any of its payments
    nor its gift cards: refunding a second, duplicate payment of a paid order leaves the order as
    it is."""
    balance = sum((p.totals()["balance"] for p in order.payments.filter(status=Payment.Status.SUCCEEDED)),
                  gift_cards.refundable_to_cards(order))
    if balance <= 0 and Order.Status.REFUNDED in orders.TRANSITIONS[order.status]:
        orders.transition_order(order=order, to_status=Order.Status.REFUNDED, by=by, note="Refunded in full.")


# --- Fees ------------------------------------------------------------------------------------

def record_fee(*, payment: Payment) -> LedgerEntry | None:
    """Ask the provider for its fee on succeeded `payment` (outside a transaction) and add it to the
    ledger once (keyed by the provider's balance transaction id). Returns the new fee entry, or
    None when it was recorded already or the provider does not know it (yet: reconciliation fills
    it in later). Raises ProviderError (the outbox handler retries)."""
    provider = get_provider(payment.provider)
    if not provider.reports_fees or payment.status != Payment.Status.SUCCEEDED:
        return None
    fee = provider.charge_fee(payment)
    return _add_fee(payment, *fee) if fee else None


def _add_fee(payment: Payment, reference: str, amount: Decimal) -> LedgerEntry | None:
    """The fee entry `reference` of `payment`, if this call created it (None: already there, or 0)."""
    if amount <= 0:
        return None
    try:
        with transaction.atomic():
            entry, created = LedgerEntry.objects.get_or_create(
                kind=LedgerEntry.Kind.FEE, reference=reference,
                defaults={"payment": payment, "amount": amount, "note": "provider fee"})
    except IntegrityError:  # recorded at the same moment by another event
        return None
    return entry if created else None


# --- Refunds ---------------------------------------------------------------------------------

def _refund_at_once(payment: Payment, amount: Decimal, *, note: str) -> LedgerEntry:
    """A refund of `amount` owed by the shop itself, sent to the provider through the outbox."""
    entry = LedgerEntry.objects.create(payment=payment, kind=LedgerEntry.Kind.REFUND, amount=amount,
                                       status=LedgerEntry.Status.PENDING, note=note[:255],
                                       idempotency_key=f"auto:{payment.pk}")
    outbox.enqueue(kind="payments.refund", payload={"entry_id": entry.pk})
    return entry


def refund(*, payment: Payment, amount: Decimal, key: str, by=None) -> LedgerEntry:
    """Refund `amount` (Decimal in the payment's currency, > 0) of a succeeded `payment`: the refund
    is recorded (pending) under the order's and payment's row locks, so that two concurrent refunds
    can never exceed the balance, then sent to the provider outside the transaction with the
    idempotency key "ishop-refund-<entry id>". The same `key` again returns the first refund.
    A refund that empties the balance moves the order to refunded (stock back, email).

    Raises RefundRefused (nothing recorded), or PaymentUnavailable when the provider fails (the
    refund is marked failed and may be tried again with a new key)."""
    with transaction.atomic():
        Order.objects.select_for_update().get(pk=payment.order_id)
        payment = Payment.objects.select_for_update().get(pk=payment.pk)
        entry = LedgerEntry.objects.filter(idempotency_key=key).first()
        if entry is not None:
            return entry
        balance = payment.totals()["balance"]
        if payment.status != Payment.Status.SUCCEEDED:
            raise RefundRefused("Only a payment that succeeded can be refunded.")
        if amount <= 0 or amount > balance:
            raise RefundRefused(f"A refund must be more than 0 and at most the {balance} {payment.currency} "
                                "left to refund.")
        entry = LedgerEntry.objects.create(payment=payment, kind=LedgerEntry.Kind.REFUND, amount=amount,
                                           status=LedgerEntry.Status.PENDING, idempotency_key=key,
                                           note=f"by {by}" if by is not None else "")
    return execute_refund(entry=entry, by=by)


@dataclass(frozen=True)
class OrderRefund:
    """What refund_order did: `amount` in all (Decimal in the order's currency), the provider's
    refund `entry` (None when nothing went to the provider) and the gift card transactions
    `to_cards` (empty when nothing went back to a card)."""

    amount: Decimal
    entry: LedgerEntry | None = None
    to_cards: list = field(default_factory=list)


def refundable_total(order: Order) -> Decimal:
    """What can still be refunded on `order`: its latest succeeded payment's balance plus what its
    gift cards paid and have not had back."""
    payment = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
    return (payment.totals()["balance"] if payment else Decimal("0")) + gift_cards.refundable_to_cards(order)


def refund_order(*, order: Order, amount: Decimal, key: str, by=None) -> OrderRefund:
    """Refund `amount` (> 0, Decimal in the order's currency) of `order`, whatever paid it. The
    order of refunds: the money paid through the provider first (refund, on the latest succeeded
    payment), the gift cards last (giftcards.services.refund_to_cards: the last card spent first),
    so the shopper gets their own money back before store credit. Both are recorded under the
    order's row lock; a refund that leaves nothing on the payment nor the cards moves the order to
    refunded (stock back, email). The same `key` again returns what the first refund did.

    Raises RefundRefused (nothing recorded) unless 0 < `amount` <= refundable_total(order), or
    PaymentUnavailable when the provider fails (nothing went to the cards)."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        entry = LedgerEntry.objects.filter(idempotency_key=key).first()
        done = gift_cards.refunded_with_key(order=order, key=key)
        if entry is not None or done:
            return OrderRefund(amount=(entry.amount if entry else Decimal("0")) + sum(t.amount for t in done),
                               entry=entry, to_cards=done)
        payment = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
        on_payment = payment.totals()["balance"] if payment else Decimal("0")
        left = on_payment + gift_cards.refundable_to_cards(order)
        if amount <= 0 or amount > left:
            raise RefundRefused(f"A refund must be more than 0 and at most the {left} {order.currency} left to refund.")
        to_provider = min(amount, on_payment)
    entry = refund(payment=payment, amount=to_provider, key=key, by=by) if to_provider > 0 else None
    if amount == to_provider:
        return OrderRefund(amount=amount, entry=entry)
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        to_cards = gift_cards.refund_to_cards(order=order, amount=amount - to_provider, key=key, by=by)
        _refunded_in_full(order, payment, by=by)
    return OrderRefund(amount=amount, entry=entry, to_cards=to_cards)


def refundable_payment(order: Order) -> Payment:
    """The order's succeeded payment (the latest). Raises RefundRefused when it has none."""
    payment = order.payments.filter(status=Payment.Status.SUCCEEDED).order_by("-pk").first()
    if payment is None:
        raise RefundRefused(f"Order {order.number} has no payment to refund.")
    return payment


def amount_for_lines(order: Order, lines: dict[str, int]) -> Decimal:
    """What refunding `lines` ({SKU: quantity}) of `order` comes to: what was charged for each line
    as the pricing engine stored it (line total - voucher discount, + tax when prices were net),
    for the share `quantity` of its units, rounded half up to the currency's minor unit (the whole
    line gives exactly its charge). Shipping is refunded by amount. Raises RefundRefused for an
    SKU not in the order or more units than it has."""
    by_sku = {line.sku: line for line in order.lines.all()}
    total, minor = Decimal("0"), from_minor(1, order.currency)
    for sku, quantity in lines.items():
        line = by_sku.get(sku)
        if line is None or not 0 < quantity <= line.quantity:
            raise RefundRefused(f"{sku}: not in order {order.number}, or not that many units.")
        charged = line.line_total - line.discount + (Decimal("0") if order.prices_include_tax else line.tax)
        total += (charged * quantity / line.quantity).quantize(minor, rounding=ROUND_HALF_UP)
    return total


def execute_refund(*, entry: LedgerEntry, by=None, give_up: bool = True) -> LedgerEntry:
    """Send pending refund `entry` to its provider (outside a transaction) and record the outcome.
    Raises PaymentUnavailable when the provider fails; the entry is then marked failed (its amount
    refundable again), unless `give_up` is False (the outbox retries a refund the shop owes)."""
    payment = entry.payment
    try:
        reference = get_provider(payment.provider).refund(payment, entry.amount,
                                                          idempotency_key=f"ishop-refund-{entry.pk}")
    except ProviderError as error:
        if give_up:
            LedgerEntry.objects.filter(pk=entry.pk, status=LedgerEntry.Status.PENDING).update(
                status=LedgerEntry.Status.FAILED, note=str(error)[:255])
        raise PaymentUnavailable(f"The refund failed: {error}") from error
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=payment.order_id)
        entry.status, entry.reference = LedgerEntry.Status.SUCCEEDED, reference
        entry.save(update_fields=["status", "reference"])
        _refunded_in_full(order, payment, by=by)
    return entry


# --- Expiry and reconciliation ---------------------------------------------------------------

def expire_unpaid_orders(*, now=None) -> list[str]:
    """Cancel orders pending payment for more than SHOP_PAYMENT_TIMEOUT seconds and put their stock
    back (orders.services.void_order, under the order's row lock). Returns their numbers."""
    cutoff = (now or timezone.now()) - timedelta(seconds=settings.SHOP_PAYMENT_TIMEOUT)
    expired = []
    for order in Order.objects.filter(status=Order.Status.PENDING_PAYMENT, created_at__lt=cutoff).order_by("pk"):
        minutes = settings.SHOP_PAYMENT_TIMEOUT // 60
        if orders.void_order(order=order, reason=f"not paid within {minutes} minutes").status == Order.Status.CANCELLED:
            expired.append(order.number)
    return expired


def reconcile(*, since, provider: str | None = None) -> list[str]:
    """Compare the provider's payments created since `since` (datetime) with ours and apply what a
    lost webhook would have (apply_event). Returns one line per change."""
    code = provider or active_code()
    changes = []
    for event in get_provider(code).reconcile(since):
        outcome = apply_event(event, provider=code)
        if outcome not in ("duplicate", "ignored", "already succeeded", "refunds already recorded",
                           "ignored: failure after success") and not outcome.startswith("payment failed"):
            changes.append(f"{event['data']['object'].get('id')}: {outcome}")
    return changes
