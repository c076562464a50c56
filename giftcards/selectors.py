"""Gift card reads: what a cart's cards would pay, what an order's cards paid, and what is left to
pay through the payment provider. Money is Decimal in the order's (the shop's) currency."""
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Sum, prefetch_related_objects

from .models import ZERO, CartGiftCard, GiftCardTransaction
from .services import GiftCardCharge, GiftCardError, check_card, plan_charges


@dataclass(frozen=True)
class GiftCardPlan:
    """The gift cards of a cart or an order: `charges` (what each card pays, in use order), the
    `total` they pay, `to_pay` (what is left for the payment provider) and, for a cart, `errors`:
    one reason per card entered that cannot pay now (it is left out)."""

    charges: list[GiftCardCharge] = field(default_factory=list)
    total: Decimal = ZERO
    to_pay: Decimal = ZERO
    errors: list[str] = field(default_factory=list)


def cart_cards(cart) -> list:
    """The gift cards entered in `cart`, in the order they were entered (one query)."""
    if cart is None or cart.pk is None:
        return []
    return [entry.card for entry in CartGiftCard.objects.filter(cart=cart).select_related("card")]


def cart_codes(cart) -> list[str]:
    """The codes of the gift cards entered in `cart`, in the order they were entered."""
    return [card.code for card in cart_cards(cart)]


def cart_plan(cart, total: Decimal) -> GiftCardPlan:
    """What the cart's gift cards would pay towards `total` now (checked as checkout will), and
    what is left to pay. A card that cannot pay gives its reason in `errors`."""
    usable, errors = [], []
    for card in cart_cards(cart):
        try:
            usable.append(check_card(card, code=card.code))
        except GiftCardError as problem:
            errors.append(str(problem))
    charges = plan_charges(usable, total)
    paid = sum((c.amount for c in charges), ZERO)
    return GiftCardPlan(charges=charges, total=paid, to_pay=max(total - paid, ZERO), errors=errors)


def paid_by_cards(order) -> Decimal:
    """What `order`'s gift cards paid when it was placed (Decimal, 0 when none; one query): its
    first SPEND transactions (a re-spend after a revival has a reference and is not counted twice)."""
    spent = (GiftCardTransaction.objects.filter(order=order, kind=GiftCardTransaction.Kind.SPEND, reference=None)
             .aggregate(total=Sum("amount"))["total"])
    return -spent if spent else ZERO


def amount_to_pay(order) -> Decimal:
    """What the payment provider must charge for `order`: its total less the gift cards' part."""
    return max(order.total - paid_by_cards(order), ZERO)


def order_plan(order) -> GiftCardPlan:
    """What each of `order`'s gift cards paid when it was placed, and what was left to pay (one
    query, none when "gift_card_transactions__card" is prefetched already, as lists do)."""
    prefetch_related_objects([order], "gift_card_transactions__card")
    charges = [GiftCardCharge(card_id=t.card_id, masked_code=t.card.masked_code, amount=-t.amount)
               for t in sorted(order.gift_card_transactions.all(), key=lambda t: t.pk)
               if t.kind == GiftCardTransaction.Kind.SPEND and t.reference is None]
    paid = sum((c.amount for c in charges), ZERO)
    return GiftCardPlan(charges=charges, total=paid, to_pay=max(order.total - paid, ZERO))
