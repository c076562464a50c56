"""Gift card writes (issue 26): issue, adjust, spend on an order, give back, refund to the card.

Every balance change locks the card row (SELECT ... FOR UPDATE, cards in primary-key order) and
writes a GiftCardTransaction in the same transaction, so concurrent orders spending one card never
take it below zero (and the database's CHECK balance >= 0 is the last line of defence). Lock order,
as at checkout: variants, then the voucher, then gift cards; refunds and voids lock the order row
first.

Refunds: the money the shopper paid through the provider is refunded first, the gift cards last
(payments.services.refund_order); among an order's cards, the last card spent is refunded first.
Money is Decimal in the card's currency, which must be the shop's (settings.SHOP_CURRENCY).
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from outbox import services as outbox

from .models import ZERO, CartGiftCard, GiftCard, GiftCardTransaction, normalize_code

logger = logging.getLogger(__name__)

MAX_CARDS_PER_ORDER = 5
WRONG_CODES_ALLOWED = 10  # wrong codes a client (and a cart) may type per WRONG_CODES_WINDOW
WRONG_CODES_WINDOW = 3600  # seconds
MAX_BALANCE = Decimal("99999999.99")  # what a card may hold (the column takes more; a typo should not)
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O/1/I


class GiftCardError(Exception):
    """A gift card cannot be used, issued or changed as asked. The message is the reason, safe to
    show to the shopper (the code is never shown in full except to the one who typed it)."""


@dataclass(frozen=True)
class GiftCardCharge:
    """What one card pays (or would pay) towards an order: `amount` (Decimal, > 0) of card
    `card_id`, shown as `masked_code` ("****1234")."""

    card_id: int
    masked_code: str
    amount: Decimal


def new_code() -> str:
    """A fresh, unguessable code such as "7KQ2M9XDPL4TWZ3H" (16 characters, 80 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(16))


def find_card(code: str) -> GiftCard | None:
    """The card for `code` in any case, or None."""
    normalized = normalize_code(code)
    return GiftCard.objects.filter(code=normalized).first() if normalized else None


def check_card(card: GiftCard | None, *, code: str, currency: str | None = None,
               now: datetime | None = None) -> GiftCard:
    """`card` if it can pay now in `currency` (default: the shop's); else raises GiftCardError
    with the reason: unknown or blocked, expired, another currency, no balance left."""
    currency = currency or settings.SHOP_CURRENCY
    if card is None or not card.is_active:
        raise GiftCardError(f"{(code or '').strip().upper()[:32] or 'That'} is not a valid gift card code.")
    if card.expires_at is not None and (now or timezone.now()) >= card.expires_at:
        raise GiftCardError(f"Gift card {card.masked_code} expired on {card.expires_at:%d %b %Y}.")
    if card.currency != currency:
        raise GiftCardError(f"Gift card {card.masked_code} is in {card.currency}; this shop charges in {currency}.")
    if card.balance <= 0:
        raise GiftCardError(f"Gift card {card.masked_code} has no balance left.")
    return card


def usable_card(code: str, *, currency: str | None = None) -> GiftCard:
    """The card for `code` if it can pay now (check_card); raises GiftCardError."""
    return check_card(find_card(code), code=code, currency=currency)


def plan_charges(cards: list[GiftCard], total: Decimal) -> list[GiftCardCharge]:
    """What each card pays towards `total`, in the given order: each takes what is left, up to its
    balance; a card with nothing left to pay is left out. Never more than `total` in all."""
    charges, left = [], max(total, ZERO)
    for card in cards:
        amount = min(card.balance, left)
        if amount > 0:
            charges.append(GiftCardCharge(card_id=card.pk, masked_code=card.masked_code, amount=amount))
            left -= amount
    return charges


def _move(card: GiftCard, *, amount: Decimal, kind: str, order=None, reference: str | None = None,
          note: str = "", by=None) -> GiftCardTransaction:
    """Change locked `card`'s balance by `amount` and record it (in the caller's transaction)."""
    if card.balance + amount < 0:
        raise GiftCardError(f"Gift card {card.masked_code} has only {card.balance} {card.currency} left.")
    if card.balance + amount > MAX_BALANCE:
        raise GiftCardError(f"A gift card holds at most {MAX_BALANCE} {card.currency}.")
    card.balance += amount
    card.save(update_fields=["balance"])
    return GiftCardTransaction.objects.create(
        card=card, order=order, kind=kind, amount=amount, balance_after=card.balance, reference=reference,
        note=note[:255], created_by=by if by is not None and by.is_authenticated else None)


@transaction.atomic
def issue_card(*, amount: Decimal, currency: str | None = None, code: str = "", expires_at: datetime | None = None,
               by=None, source_order=None, recipient_email: str = "", note: str = "") -> GiftCard:
    """Issue a card worth `amount` (> 0) in `currency` (default: the shop's), with `code` or a new
    one, and its ISSUE transaction. Raises GiftCardError for a non-positive amount or a code in use."""
    if amount is None or amount <= 0:
        raise GiftCardError("A gift card must be worth more than 0.")
    code = normalize_code(code) or new_code()
    if GiftCard.objects.filter(code=code).exists():
        raise GiftCardError("A gift card with this code exists.")
    card = GiftCard.objects.create(code=code, currency=currency or settings.SHOP_CURRENCY, initial_balance=amount,
                                   balance=ZERO, expires_at=expires_at, source_order=source_order,
                                   issued_by=by if by is not None and by.is_authenticated else None,
                                   recipient_email=recipient_email)
    _move(card, amount=amount, kind=GiftCardTransaction.Kind.ISSUE, order=source_order,
          note=note or ("Bought with an order." if source_order else "Issued by staff."), by=by)
    return card


@transaction.atomic
def adjust_card(*, card: GiftCard, amount: Decimal, note: str, by=None) -> GiftCardTransaction:
    """Add (or, negative, take away) `amount` on `card` by hand, with the reason `note`. Raises
    GiftCardError when it would take the balance below zero or the amount is 0."""
    if not amount:
        raise GiftCardError("An adjustment must not be 0.")
    card = GiftCard.objects.select_for_update().get(pk=card.pk)
    return _move(card, amount=amount, kind=GiftCardTransaction.Kind.ADJUST, note=note, by=by)


def spend_on_order(*, order, codes: list[str]) -> list[GiftCardCharge]:
    """Pay as much of `order`'s total (in its currency) as the cards for `codes` hold, in the
    shopper's order, each card's row locked (primary-key order) and checked again as it is now,
    with a SPEND transaction per card. Must run in the order's transaction. Returns the charges.
    Raises GiftCardError (the caller rolls the order back) for a code that cannot be used, or more
    than MAX_CARDS_PER_ORDER cards."""
    wanted = list(dict.fromkeys(normalize_code(code) for code in codes if normalize_code(code)))
    if len(wanted) > MAX_CARDS_PER_ORDER:
        raise GiftCardError(f"Use at most {MAX_CARDS_PER_ORDER} gift cards on one order.")
    locked = {card.code: card for card in GiftCard.objects.select_for_update().filter(code__in=wanted).order_by("pk")}
    cards = [check_card(locked.get(code), code=code, currency=order.currency) for code in wanted]
    charges = plan_charges(cards, order.total)
    by_id = {card.pk: card for card in cards}
    for charge in charges:
        _move(by_id[charge.card_id], amount=-charge.amount, kind=GiftCardTransaction.Kind.SPEND, order=order,
              note=f"Order {order.number}")
    return charges


def respend_released(*, order) -> Decimal:
    """`order` was cancelled unpaid (its cards given back by release_order) and is being revived by
    a late payment: spend again on each card what was given back, under the card locks, as SPEND
    transactions keyed "respend:<order id>:<card id>" (paid_by_cards still counts the first spend
    once). Returns the amount. Raises GiftCardError when a card no longer holds it (the caller
    rolls back and refunds the late payment instead)."""
    given_back = {t.card_id: t.amount for t in GiftCardTransaction.objects.filter(
        order=order, kind=GiftCardTransaction.Kind.REFUND, reference__startswith=f"release:{order.pk}:")}
    cards = GiftCard.objects.select_for_update().filter(pk__in=given_back).order_by("pk")
    for card in cards:
        if not GiftCardTransaction.objects.filter(reference=f"respend:{order.pk}:{card.pk}").exists():
            _move(card, amount=-given_back[card.pk], kind=GiftCardTransaction.Kind.SPEND, order=order,
                  reference=f"respend:{order.pk}:{card.pk}", note=f"Order {order.number} paid after it expired")
    return sum(given_back.values(), ZERO)


def _refundable_by_card(order) -> dict[int, Decimal]:
    """Per card id, what `order` spent on it and has not had back yet (> 0 only), last spent first."""
    rows = (GiftCardTransaction.objects.filter(order=order, kind__in=[GiftCardTransaction.Kind.SPEND,
                                                                       GiftCardTransaction.Kind.REFUND])
            .values("card_id").annotate(net=Sum("amount")).order_by("card_id"))
    net = {row["card_id"]: -row["net"] for row in rows if row["net"] < 0}
    spent_order = (GiftCardTransaction.objects.filter(order=order, kind=GiftCardTransaction.Kind.SPEND)
                   .order_by("-pk").values_list("card_id", flat=True))
    return {card_id: net[card_id] for card_id in spent_order if card_id in net}


def refundable_to_cards(order) -> Decimal:
    """What `order`'s gift cards paid and have not had back yet (Decimal, 0 when none)."""
    return sum(_refundable_by_card(order).values(), ZERO)


def refunded_with_key(*, order, key: str) -> list[GiftCardTransaction]:
    """The REFUND transactions of `order` made by refund_to_cards with `key` (empty: none yet)."""
    card_ids = set(GiftCardTransaction.objects.filter(order=order, kind=GiftCardTransaction.Kind.SPEND)
                   .values_list("card_id", flat=True))
    return list(GiftCardTransaction.objects.filter(
        order=order, kind=GiftCardTransaction.Kind.REFUND,
        reference__in=[f"{key}:{card_id}" for card_id in card_ids]).order_by("pk"))


def refund_to_cards(*, order, amount: Decimal, key: str, by=None, note: str = "") -> list[GiftCardTransaction]:
    """Return `amount` (> 0) of what `order` paid by gift card to its cards, the last card spent
    first, each under its row lock, with a REFUND transaction keyed "<key>:<card id>". The same
    `key` again returns the first refund's transactions. Must run in a transaction holding the
    order's row lock. Raises GiftCardError when `amount` is more than the cards paid and still hold
    back (refundable_to_cards)."""
    done = refunded_with_key(order=order, key=key)
    if done:
        return done
    owed = _refundable_by_card(order)
    if amount <= 0 or amount > sum(owed.values(), ZERO):
        raise GiftCardError(f"At most {sum(owed.values(), ZERO)} can go back to this order's gift cards.")
    cards = {card.pk: card for card in GiftCard.objects.select_for_update().filter(pk__in=owed).order_by("pk")}
    entries, left = [], amount
    for card_id, refundable in owed.items():
        back = min(refundable, left)
        if back > 0:
            entries.append(_move(cards[card_id], amount=back, kind=GiftCardTransaction.Kind.REFUND, order=order,
                                 reference=f"{key}:{card_id}", note=note or f"Refund of order {order.number}",
                                 by=by))
            left -= back
    return entries


def release_order(*, order, note: str = "", refunded: bool = False) -> Decimal:
    """Give back to its cards everything `order` spent on them and has not had back: it was
    cancelled unpaid (keyed "release:<order id>", which a revival by a late payment spends again:
    respend_released), or `refunded` (keyed "refunded:<order id>"). A second call does nothing.
    Returns the amount given back. Runs in the caller's transaction, which holds the order's row lock."""
    owed = refundable_to_cards(order)
    if owed <= 0:
        return ZERO
    refund_to_cards(order=order, amount=owed, key=f"{'refunded' if refunded else 'release'}:{order.pk}",
                    note=note or f"Order {order.number} cancelled unpaid")
    return owed


# --- The cart ------------------------------------------------------------------------------------

@transaction.atomic
def add_to_cart(*, cart, code: str, client: str = "") -> GiftCard:
    """Keep gift card `code` on `cart` to pay with at checkout, if it can pay now. Raises
    GiftCardError with the reason (unknown, expired, another currency, empty, too many cards, or
    too many wrong codes: WRONG_CODES_ALLOWED per WRONG_CODES_WINDOW seconds for the `client`
    address and for the cart, so that codes cannot be guessed by trying them)."""
    # "throttle_" keys, like DRF's throttles (the test suite clears those between tests)
    counters = [f"throttle_giftcards_cart_{cart.pk}"] + ([f"throttle_giftcards_client_{client}"] if client else [])
    if _wrong_codes(counters) >= WRONG_CODES_ALLOWED:
        raise GiftCardError("Too many wrong gift card codes: try again in an hour.")
    try:
        card = usable_card(code)
    except GiftCardError:
        if find_card(code) is None:
            _count_wrong_code(counters)
        raise
    codes = CartGiftCard.objects.filter(cart=cart)
    if not codes.filter(card=card).exists():
        if codes.count() >= MAX_CARDS_PER_ORDER:
            raise GiftCardError(f"Use at most {MAX_CARDS_PER_ORDER} gift cards on one order.")
        CartGiftCard.objects.create(cart=cart, card=card)
    return card


def _wrong_codes(counters: list[str]) -> int:
    try:
        return max((value or 0 for value in cache.get_many(counters).values()), default=0)
    except Exception:  # noqa: BLE001 - with the cache down the limit cannot be counted: let it be
        logger.exception("Could not read the gift card code counters")
        return 0


def _count_wrong_code(counters: list[str]) -> None:
    for key in counters:
        try:
            if not cache.add(key, 1, timeout=WRONG_CODES_WINDOW):
                cache.incr(key)
        except Exception:  # noqa: BLE001 - as above
            logger.exception("Could not count a wrong gift card code")


def back_to_cart(*, order, cart) -> None:
    """Put the gift cards `order` (voided, its cards given back) was paying with back on `cart`, so
    the shopper who takes the order back to their cart pays with them again at checkout."""
    spent = (GiftCardTransaction.objects.filter(order=order, kind=GiftCardTransaction.Kind.SPEND, reference=None)
             .order_by("pk").values_list("card_id", flat=True))
    for card_id in spent:
        CartGiftCard.objects.get_or_create(cart=cart, card_id=card_id)


def remove_from_cart(*, cart, card_id: int) -> None:
    """Take gift card `card_id` off `cart` (nothing happens when it is not there)."""
    CartGiftCard.objects.filter(cart=cart, card_id=card_id).delete()


# --- Gift cards sold as products -----------------------------------------------------------------

def issue_for_order(*, order) -> list[GiftCard]:
    """`order` was paid: issue one card per unit of each gift-card product line (Product.is_gift_card),
    worth the line's unit price, and write an email with its code to the buyer to the outbox (in
    the caller's transaction). An order whose cards were issued already issues nothing."""
    lines = [line for line in order.lines.select_related("variant__product")
             if line.variant_id and line.variant.product.is_gift_card]
    if not lines or GiftCard.objects.filter(source_order=order).exists():
        return []
    cards = []
    for line in lines:
        for _ in range(line.quantity if line.unit_price > 0 else 0):
            card = issue_card(amount=line.unit_price, currency=order.currency, source_order=order,
                              recipient_email=order.email, note=f"Bought with order {order.number} ({line.sku}).")
            outbox.enqueue(kind="giftcards.card_email", payload={"card_id": card.pk})
            cards.append(card)
    return cards
