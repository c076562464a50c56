"""Prices, shipping and totals, computed on the server from the database. Never from the client.

All amounts are `Decimal` in settings.SHOP_CURRENCY, exact to the cent (catalogue prices have
two decimals, so sums and products with whole quantities need no rounding).
"""
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from catalog.models import Variant


class UnknownShippingMethod(ValueError):
    """The shipping method code is not one of settings.SHOP_SHIPPING_RATES."""


@dataclass(frozen=True)
class ShippingRate:
    """A flat shipping rate: `price` in the shop's currency, whatever the cart holds."""

    code: str
    name: str
    price: Decimal


@dataclass(frozen=True)
class PricedLine:
    """One cart line priced now: `unit_price` is the variant's current selling price."""

    variant: Variant
    quantity: int
    unit_price: Decimal
    line_total: Decimal


@dataclass(frozen=True)
class PricedCart:
    """A cart's lines and totals. `shipping` is None until a shipping method is chosen."""

    lines: list[PricedLine]
    subtotal: Decimal
    shipping: ShippingRate | None
    total: Decimal
    currency: str

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)


def shipping_rates() -> list[ShippingRate]:
    """Every shipping method on offer, in the order settings list them."""
    return [ShippingRate(code, name, price) for code, (name, price) in settings.SHOP_SHIPPING_RATES.items()]


def get_shipping_rate(code: str) -> ShippingRate:
    """The rate for `code`. Raises UnknownShippingMethod."""
    try:
        name, price = settings.SHOP_SHIPPING_RATES[code]
    except KeyError:
        raise UnknownShippingMethod(f"Unknown shipping method {code!r}.") from None
    return ShippingRate(code, name, price)


def price_lines(items: list[tuple[Variant, int]], *, shipping_method: str | None = None) -> PricedCart:
    """Price (variant, quantity) pairs with the variants' current prices plus the shipping rate.

    Raises UnknownShippingMethod when `shipping_method` is given and unknown.
    """
    lines = [
        PricedLine(variant=variant, quantity=quantity, unit_price=variant.unit_price,
                   line_total=variant.unit_price * quantity)
        for variant, quantity in items
    ]
    subtotal = sum((line.line_total for line in lines), Decimal("0.00"))
    shipping = get_shipping_rate(shipping_method) if shipping_method else None
    total = subtotal + (shipping.price if shipping else Decimal("0.00"))
    return PricedCart(lines=lines, subtotal=subtotal, shipping=shipping, total=total,
                      currency=settings.SHOP_CURRENCY)
