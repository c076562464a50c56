"""Helpers of the gift card tests: a card issued through the service, and an order placed through checkout."""
from decimal import Decimal

from catalog.tests.factories import VariantFactory
from giftcards.services import issue_card
from orders import services
from orders.tests.factories import cart_with, checkout_details


def card(amount: str, code: str = "", **kwargs):
    """A gift card worth `amount` (a decimal string) in the shop's currency, issued by the service."""
    return issue_card(amount=Decimal(amount), code=code, **kwargs)


def place(*codes: str, price: str = "20.00", quantity: int = 2, key: str = "k", voucher: str = "", **details):
    """An order of `quantity` x a `price` tee shipped standard ($5.00) to the US (no tax), paid in
    part with gift card `codes`, placed through orders.services.place_order (test provider)."""
    cart = cart_with((VariantFactory(price=Decimal(price), stock=50), quantity))
    if voucher:
        cart.voucher_code = voucher
        cart.save()
    return services.place_order(cart=cart, customer=None, details=checkout_details(**details),
                                payment_provider="test", idempotency_key=key, gift_card_codes=list(codes))
