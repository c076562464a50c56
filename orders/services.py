"""Cart and checkout writes and the order lifecycle. HTML views, admin actions, API views and tasks
all call these (the cart's own writes live in orders.carts and are re-exported here).

Domain errors are named exceptions (subclasses of CheckoutError); views turn them into messages.
"""
import secrets
from dataclasses import asdict

from django.db import IntegrityError, transaction
from django.utils.crypto import salted_hmac

from catalog.live import realtime
from catalog.services import (InsufficientStock, allocate_stock, broadcast_stock, lock_variants, mark_verified_buyer,
                              release_stock)
from giftcards import selectors as gift_card_reads
from giftcards import services as gift_cards
from giftcards.services import GiftCardError
from outbox import services as outbox
from promotions.services import VoucherNotApplicable, lock_voucher, redeem_voucher, release_voucher
from webhooks import events as webhook_events

from .carts import (SESSION_CART_KEY, CheckoutError, EmptyCart, InvalidQuantity, VariantUnavailable, add_to_cart,
                    apply_voucher, find_cart, get_or_create_cart, merge_guest_cart_into_customer_cart, set_line_quantity)
from .details import CheckoutDetails
from .guests import attach_guest_orders
from .models import Cart, Order, OrderLine, OrderStatusChange
from .pricing import UnknownShippingMethod, price_cart

__all__ = [
    "CheckoutDetails", "CheckoutError", "GiftCardError", "apply_voucher", "attach_guest_orders", "EmptyCart", "InsufficientStock",
    "InvalidQuantity",
    "SHOPPER_ERRORS", "TRANSITIONS", "allowed_transitions", "cancel_order", "transition_order",
    "UnknownShippingMethod", "VariantUnavailable", "VoucherNotApplicable", "add_to_cart", "find_cart",
    "get_or_create_cart", "idempotency_owner", "mark_paid", "merge_guest_cart_into_customer_cart", "place_order",
    "reopen_in_cart", "revive_paid_order",
    "set_line_quantity", "stored_idempotency_key", "void_order", "SESSION_CART_KEY", "IllegalTransition",
]


class IllegalTransition(CheckoutError):
    """The order's status does not allow the requested change."""


# Every error a shopper can cause at cart or checkout; each message is safe to show.
SHOPPER_ERRORS = (CheckoutError, InsufficientStock, UnknownShippingMethod, VoucherNotApplicable, GiftCardError)


# --- Checkout --------------------------------------------------------------------------------

def new_order_number() -> str:
    """A short, unguessable order number such as "IS-7KQ2M9XD" (8 characters, no 0/O/1/I)."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "IS-" + "".join(secrets.choice(alphabet) for _ in range(8))


def idempotency_owner(*, cart: Cart, customer) -> str:
    """Who a checkout attempt belongs to: "customer:<id>" for a logged-in customer, else
    "cart:<id>", the guest's own cart (found only through their session)."""
    if customer is not None and customer.is_authenticated:
        return f"customer:{customer.pk}"
    return f"cart:{cart.pk}"


def stored_idempotency_key(*, owner: str, key: str) -> str:
    """Order.idempotency_key for a client's `key` sent by `owner`: an HMAC-SHA256 of both under
    the server's SECRET_KEY (django.utils.crypto.salted_hmac), 64 hex digits. The same key sent by
    two owners is two keys, and nobody can work out another owner's stored key."""
    return salted_hmac("orders.services.idempotency-key", f"{owner}\x00{key}", algorithm="sha256").hexdigest()


def place_order(*, cart: Cart, customer, details: CheckoutDetails, payment_provider: str,
                idempotency_key: str, owner: str = "", request_hash: str = "",
                gift_card_codes: list[str] | None = None) -> Order:
    """Turn a cart into an order pending payment, as Saleor's complete_checkout does: take the
    stock and create the order (status pending payment) in one committed transaction, and empty
    the cart. The payment is asked for afterwards, outside any transaction
    (payments.services.start_payment); the provider's webhook marks the order paid (mark_paid), and
    an order unpaid after SHOP_PAYMENT_TIMEOUT seconds is voided (payments.services.expire_unpaid_orders).

    Prices, shipping, tax, the cart's voucher and totals come from the pricing engine
    (orders.pricing.price_cart) fed from the database; the order and its lines keep what it said.
    Variants are locked in primary-key order, then the voucher row, so that concurrent checkouts
    cannot deadlock and a voucher's use is counted under its lock (usage_limit holds in a race).
    A second call with the same `idempotency_key` by the same owner returns the first order and
    changes nothing. The key is the client's; it is kept scoped to its `owner` (default:
    idempotency_owner(cart, customer)) by stored_idempotency_key, so another owner replaying it
    places their own order, or none, and never gets this one. `request_hash` (the API's request
    body digest) is stored on the order; an order found under the key with another hash is
    returned untouched for the caller to refuse. `payment_provider` is the provider code recorded
    on the order (payments.providers).

    Gift cards (`gift_card_codes`, default: the cart's) pay part of the total as a payment, not a
    discount: each card's row is locked after the voucher's and spent through its ledger
    (giftcards.services.spend_on_order); the provider is asked only for the rest
    (giftcards.selectors.amount_to_pay). When the cards pay it all, the order is marked paid here,
    on the same path as the provider's webhook (confirmation email, dashboard, gift cards bought).

    Raises EmptyCart, VariantUnavailable, InsufficientStock, UnknownShippingMethod,
    VoucherNotApplicable or GiftCardError (no order exists, no stock moved, no voucher use counted,
    no gift card spent).
    """
    if not idempotency_key:
        raise ValueError("idempotency_key is required")
    idempotency_key = stored_idempotency_key(owner=owner or idempotency_owner(cart=cart, customer=customer),
                                             key=idempotency_key)
    order = Order.objects.filter(idempotency_key=idempotency_key).first()
    if order is None:
        try:
            with transaction.atomic():
                order = _reserve_order(cart=cart, customer=customer, details=details, provider=payment_provider,
                                       idempotency_key=idempotency_key, request_hash=request_hash,
                                       gift_card_codes=gift_card_codes)
                cart.lines.all().delete()
                cart.gift_cards.all().delete()
        except IntegrityError:
            # A concurrent submit with the same key committed first: its order is the answer.
            order = Order.objects.filter(idempotency_key=idempotency_key).first()
            if order is None:
                raise
    return order


def _reserve_order(*, cart, customer, details, provider, idempotency_key, request_hash,
                   gift_card_codes=None) -> Order:
    """Take the cart's stock and create its order, pending payment (in the caller's transaction)."""
    lines = list(cart.lines.order_by("variant_id"))
    if not lines:
        raise EmptyCart("Your cart is empty.")
    variants = lock_variants(line.variant_id for line in lines)
    # Another submit of this checkout may have finished while we waited for the locks.
    if existing := Order.objects.filter(idempotency_key=idempotency_key).first():
        return existing
    for line in lines:
        variant = variants.get(line.variant_id)
        if variant is None or not variant.product.is_visible:
            raise VariantUnavailable("An item in your cart is no longer available. Please review your cart.")
        allocate_stock(variant=variant, quantity=line.quantity)
    customer = customer if customer is not None and customer.is_authenticated else None
    voucher = lock_voucher(cart.voucher_code, customer=customer, email=details.email) if cart.voucher_code else None
    priced = price_cart([(variants[line.variant_id], line.quantity) for line in lines],
                        country=details.shipping_country, postcode=details.shipping_postcode,
                        shipping_method=details.shipping_method, voucher=voucher)
    if priced.voucher_error:
        raise VoucherNotApplicable(priced.voucher_error)
    shipping = priced.shipping
    order = Order.objects.create(
        number=new_order_number(),
        customer=customer,
        status=Order.Status.PENDING_PAYMENT,
        currency=priced.currency,
        **{k: v for k, v in asdict(details).items() if k != "shipping_method"},
        shipping_method=shipping.code,
        shipping_method_name=shipping.name,
        shipping_price=shipping.price,
        shipping_tax=shipping.tax,
        subtotal=priced.subtotal,
        discount_total=priced.discount,
        tax_total=priced.tax,
        prices_include_tax=priced.policy.prices_include_tax,
        voucher_code=voucher.code if voucher is not None else "",
        price_explanation=priced.explanation[:500],
        total=priced.total,
        item_count=priced.item_count,
        line_count=len(priced.lines),
        payment_provider=provider,
        idempotency_key=idempotency_key,
        request_hash=request_hash,
    )
    if voucher is not None:
        redeem_voucher(voucher=voucher, order=order, customer=customer, email=details.email)
    OrderStatusChange.objects.create(order=order, to_status=order.status, changed_at=order.created_at,
                                     note="Stock taken; waiting for the payment.")
    OrderLine.objects.bulk_create(
        OrderLine(order=order, variant=variants[line.key], product_name=variants[line.key].product.name,
                  sku=variants[line.key].sku, options=variants[line.key].options, unit_price=line.unit_price,
                  quantity=line.quantity, line_total=line.line_total, discount=line.discount,
                  discount_reason=line.discount_reason[:100], tax_rate=line.tax_rate, tax=line.tax)
        for line in priced.lines
    )
    broadcast_stock(variant_ids=variants)
    codes = gift_card_reads.cart_codes(cart) if gift_card_codes is None else gift_card_codes
    spent = bool(codes) and gift_cards.spend_on_order(order=order, codes=codes)
    webhook_events.order_event(order=order, event_type="order.created")  # issue 28, in this transaction
    if spent and gift_card_reads.amount_to_pay(order) == 0:
        order = _paid(order, from_status=order.status, reference="gift-card", note="Paid in full by gift card.")
    return order


@transaction.atomic
def mark_paid(*, order: Order, reference: str) -> Order:
    """The provider took the payment of `order` (pending): mark it paid, write the confirmation
    email to the outbox and tell the staff dashboard (after commit). Locks the order row (the
    caller may hold it already). An order no longer pending is returned as it is."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    return _paid(order, from_status=order.status, reference=reference, note=f"Payment {reference} accepted.")


def _paid(order: Order, *, from_status: str, reference: str, note: str) -> Order:
    order.status, order.payment_reference = Order.Status.PAID, reference
    order.save(update_fields=["status", "payment_reference"])
    OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=order.status, note=note)
    gift_cards.issue_for_order(order=order)  # gift-card products bought: their codes go out by email
    webhook_events.order_event(order=order, event_type="order.paid")
    event = {"type": "order_placed", "id": order.pk, "number": order.number, "total": str(order.total),
             "currency": order.currency, "items": order.item_count, "email": order.email,
             "ts": order.created_at.isoformat()}
    transaction.on_commit(lambda: realtime.send_to_staff(event), robust=True)
    _send_order_email(order, "confirmation")
    return order


@transaction.atomic
def revive_paid_order(*, order: Order, reference: str) -> Order:
    """A payment succeeded for `order` after it was cancelled unpaid (expired): take its stock
    again, variants locked in primary-key order after the order row (as void_order), and mark it
    paid; the gift cards given back at expiry pay their part again. Raises InsufficientStock or
    VariantUnavailable when a line's stock is gone, CheckoutError when a gift card no longer holds
    its part (nothing changed); an order not cancelled is returned as it is."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.CANCELLED:
        return order
    lines = list(order.lines.all())
    variants = lock_variants(line.variant_id for line in lines if line.variant_id)
    with transaction.atomic():  # all lines or none
        for line in lines:
            if line.variant_id not in variants:
                raise VariantUnavailable(f"{line.product_name} is no longer sold.")
            allocate_stock(variant=variants[line.variant_id], quantity=line.quantity)
        try:  # the gift cards given back at expiry pay their part again
            gift_cards.respend_released(order=order)
        except GiftCardError as error:
            raise CheckoutError(str(error)) from error
    broadcast_stock(variant_ids=variants)
    return _paid(order, from_status=Order.Status.CANCELLED, reference=reference,
                 note=f"Payment {reference} arrived after the order expired; stock taken again.")


@transaction.atomic
def void_order(*, order: Order, reason: str) -> Order:
    """Undo an order whose payment failed: put its stock back, cancel it (recording `reason`) and
    release its idempotency key (stored as "void:<order number>"), so that the shopper's retry
    with the same key is a new attempt. No email: nothing was bought. The one place a checkout
    is voided; an order no longer pending payment is returned as it is."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.PENDING_PAYMENT:
        return order
    _restock(order)
    release_voucher(order=order)  # nothing was bought: the code's use goes back
    gift_cards.release_order(order=order)  # and the gift cards get back what they paid
    order.status, order.idempotency_key = Order.Status.CANCELLED, f"void:{order.number}"
    order.save(update_fields=["status", "idempotency_key"])
    OrderStatusChange.objects.create(order=order, from_status=Order.Status.PENDING_PAYMENT, to_status=order.status,
                                     note=f"Payment failed: {reason}"[:255])
    webhook_events.order_event(order=order, event_type="order.cancelled")
    return order


@transaction.atomic
def reopen_in_cart(*, order: Order, cart: Cart) -> list[str] | None:
    """A shopper whose payment did not go through takes the order back into their cart instead of
    retrying it: `order` (pending payment) is voided (void_order: stock back, cancelled, never a
    sale) and its lines and gift cards are added to `cart`, on top of what it holds. Returns the names of the
    products that could not be put back (no longer sold, or not that many left in stock), or None
    when the order is no longer pending payment (paid or cancelled meanwhile; nothing changes).
    A payment that still succeeds later (an open Stripe page) revives the order or is refunded at
    once (payments.services.apply_event): never a lost payment, never an oversell."""
    order = Order.objects.select_for_update().get(pk=order.pk)
    if order.status != Order.Status.PENDING_PAYMENT:
        return None
    void_order(order=order, reason="the shopper took the items back to their cart")
    gift_cards.back_to_cart(order=order, cart=cart)
    left_out = []
    for line in order.lines.order_by("pk"):
        try:
            if line.variant_id is None:
                raise VariantUnavailable(f"{line.product_name} is no longer sold.")
            add_to_cart(cart=cart, variant_id=line.variant_id, quantity=line.quantity)
        except SHOPPER_ERRORS:
            left_out.append(line.product_name)
    return left_out


def _restock(order: Order) -> None:
    """Put the stock of every line of `order` back (variants locked in primary-key order, as at
    checkout); the stock broadcast goes out after commit. In the caller's transaction."""
    lines = list(order.lines.exclude(variant=None))
    variants = lock_variants(line.variant_id for line in lines)
    for line in lines:
        if variant := variants.get(line.variant_id):
            release_stock(variant=variant, quantity=line.quantity)
    broadcast_stock(variant_ids=variants)


def _send_order_email(order: Order, kind: str) -> None:
    """Write the order's `kind` email (orders.emails.ORDER_EMAILS) to the outbox, in this transaction."""
    outbox.enqueue(kind="orders.order_email", payload={"order_id": order.pk, "event": kind})


# The order lifecycle: every legal move, and nothing else. Shipping needs a tracking number.
# Cancelling or refunding puts the order's stock back (the goods were never sent, or came back).
TRANSITIONS: dict[str, frozenset[str]] = {
    Order.Status.PENDING_PAYMENT: frozenset({Order.Status.PAID, Order.Status.CANCELLED}),
    Order.Status.PAID: frozenset({Order.Status.FULFILLED, Order.Status.CANCELLED, Order.Status.REFUNDED}),
    Order.Status.FULFILLED: frozenset({Order.Status.DELIVERED, Order.Status.REFUNDED}),
    Order.Status.DELIVERED: frozenset({Order.Status.REFUNDED}),
    Order.Status.CANCELLED: frozenset(),
    Order.Status.REFUNDED: frozenset(),
}
RESTOCKING_STATUSES = frozenset({Order.Status.CANCELLED, Order.Status.REFUNDED})


def allowed_transitions(order: Order) -> list[str]:
    """The statuses `order` may move to next, in the order of Order.Status."""
    allowed = TRANSITIONS[order.status]
    return [status for status in Order.Status.values if status in allowed]


@transaction.atomic
def transition_order(*, order: Order, to_status: str, by=None, tracking_number: str = "", note: str = "") -> Order:
    """Move `order` to `to_status` if the lifecycle allows it, and record who did it and when.

    `by` is the user making the change (None for the shop itself). Moving to `fulfilled` (shipped)
    needs a `tracking_number`. Moving to `cancelled` or `refunded` puts the stock of every line back
    in the same transaction, with variants locked in primary-key order as at checkout; the stock
    broadcast goes out after commit. Refunding, or cancelling an unpaid order, gives its gift cards
    back what they paid (giftcards.services.release_order); a paid order cancelled keeps its money
    until it is refunded (payments.services.refund_order). Returns the updated order.

    Raises IllegalTransition when the move is not in TRANSITIONS, when `to_status` is unknown, or
    when shipping without a tracking number.
    """
    order = Order.objects.select_for_update().get(pk=order.pk)
    if to_status not in Order.Status.values:
        raise IllegalTransition(f"Unknown order status {to_status!r}.")
    if to_status not in TRANSITIONS[order.status]:
        label = Order.Status(to_status).label.lower()
        raise IllegalTransition(
            f"Order {order.number} is {order.get_status_display().lower()} and cannot be {label}."
            if to_status in (Order.Status.CANCELLED, Order.Status.REFUNDED)
            else f"Order {order.number} cannot move from {order.get_status_display().lower()} to {label}.")
    tracking_number = tracking_number.strip()
    if to_status == Order.Status.FULFILLED and not tracking_number:
        raise IllegalTransition(f"Order {order.number} needs a tracking number to be marked as shipped.")
    if to_status in RESTOCKING_STATUSES:
        _restock(order)
    if to_status == Order.Status.REFUNDED or (to_status == Order.Status.CANCELLED
                                             and order.status == Order.Status.PENDING_PAYMENT):
        # Refunded, or cancelled unpaid: the gift cards get back what they paid and still miss.
        gift_cards.release_order(order=order, note=f"Order {order.number} {Order.Status(to_status).label.lower()}",
                                 refunded=to_status == Order.Status.REFUNDED)
    if to_status == Order.Status.PAID:
        gift_cards.issue_for_order(order=order)  # marked paid by staff: gift-card products bought
    from_status = order.status
    order.status = to_status
    update_fields = ["status"]
    if tracking_number:
        order.tracking_number = tracking_number
        update_fields.append("tracking_number")
    order.save(update_fields=update_fields)
    OrderStatusChange.objects.create(order=order, from_status=from_status, to_status=to_status,
                                     changed_by=by if by is not None and by.is_authenticated else None, note=note)
    webhook_events.order_status_event(order=order, status=to_status)  # order.paid, .fulfilled ... (issue 28)
    if to_status in (Order.Status.FULFILLED, Order.Status.CANCELLED, Order.Status.REFUNDED) \
            and from_status != Order.Status.PENDING_PAYMENT:  # emails only for orders that were paid
        _send_order_email(order, to_status)  # shipped (with tracking), cancelled, refunded
    if order.customer_id and Order.Status.DELIVERED in (from_status, to_status):
        _update_verified_buyer(order)
    return order


def _update_verified_buyer(order: Order) -> None:
    """Keep the "verified buyer" mark of the customer's reviews in step with their delivered
    order lines: set on delivery; taken off at a refund when no other delivered order has the product."""
    product_ids = set(order.lines.exclude(variant=None).values_list("variant__product_id", flat=True))
    if order.status == Order.Status.DELIVERED:
        mark_verified_buyer(user_id=order.customer_id, product_ids=product_ids)
        return
    still_delivered = set(OrderLine.objects.filter(
        order__customer_id=order.customer_id, order__status=Order.Status.DELIVERED,
        variant__product_id__in=product_ids).values_list("variant__product_id", flat=True))
    mark_verified_buyer(user_id=order.customer_id, product_ids=product_ids - still_delivered, verified=False)


def cancel_order(*, order: Order, by=None) -> Order:
    """Cancel an order that has not shipped and put its stock back (see transition_order).

    Raises IllegalTransition for an order that is shipped, delivered, cancelled or refunded.
    """
    return transition_order(order=order, to_status=Order.Status.CANCELLED, by=by)
