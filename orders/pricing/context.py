"""The engine fed from the database: the shop's settings, the variants' prices, tax classes and
weights, the destination's tax rates, its shipping zone's method and the voucher (promotions)."""
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.conf import settings

from catalog.models import Variant
from orders.addresses import COUNTRY_NAMES
from promotions import selectors as rules
from promotions.models import ShippingMethod, Voucher
from promotions.services import VoucherNotApplicable, usable_voucher

from .engine import (LineInput, Policy, PricedCart, ShippingInput, ShippingNotAvailable, TaxRates, VoucherInput,
                     WeightBand, price)


class UnknownShippingMethod(ValueError):
    """The shipping method is not offered for the address (or at all), or cannot take a product of
    the cart; the message says which."""


@dataclass(frozen=True)
class ShippingOffer:
    """What checkout offers an address for a cart: `methods` that serve the address and take every
    product; `reason` why there is none ("" when there are), safe to show to the shopper;
    `excluded` the address's other methods, {code: (name, names of the products they cannot take)}."""

    methods: list[ShippingMethod]
    reason: str = ""
    excluded: dict = field(default_factory=dict)

    def refusal(self, code: str, country: str) -> str:
        """Why method `code` is not offered, and what to choose instead (or why nothing)."""
        if not self.methods:
            return self.reason
        choose = " or ".join(method.name for method in self.methods)
        if code in self.excluded:
            name, products = self.excluded[code]
            return f"{name} cannot take {rules.scope_name(products)}; choose {choose}."
        return f"This method does not deliver to {country}; choose {choose}."


@dataclass(frozen=True)
class ShippingRate:
    """A method as forms list it before the address is known: its `price` is the flat price (or
    the lightest band's), `free_above` the goods' value from which it is free (None: never)."""

    code: str
    name: str
    price: Decimal
    free_above: Decimal | None = None


def shop_policy() -> Policy:
    """The shop's pricing settings (SHOP_CURRENCY, SHOP_PRICES_INCLUDE_TAX, ...) as a Policy."""
    return Policy(currency=settings.SHOP_CURRENCY, prices_include_tax=settings.SHOP_PRICES_INCLUDE_TAX,
                  display_gross=settings.SHOP_DISPLAY_GROSS_PRICES, rounding=settings.SHOP_TAX_ROUNDING,
                  tax_label=settings.SHOP_TAX_LABEL)


def shipping_rates() -> list[ShippingRate]:
    """Every active shipping method, one per code, in zone and method order (form choices)."""
    return [ShippingRate(m.code, m.name, m.price, m.free_above) for m in rules.method_choices()]


def available_methods(country: str, postcode: str = "", product_ids=()) -> list[ShippingMethod]:
    """The methods offered for the address: its zone's active methods (none when no zone ships
    there), without those that cannot take one of `product_ids` (the cart's products)."""
    return shipping_offer(country, postcode, product_ids).methods


def shipping_offer(country: str, postcode: str = "", product_ids=()) -> ShippingOffer:
    """The methods for the address and the cart's `product_ids`, and why there is none: no zone
    ships to the country, or every method there excludes a product ("Sofa cannot ship to ...")."""
    serving = rules.methods_for(country, postcode)
    blocked = rules.excluded_products(serving, product_ids)
    methods = [method for method in serving if method.pk not in blocked]
    if methods:
        return ShippingOffer(methods, excluded={method.code: (method.name, blocked[method.pk])
                                                for method in serving if method.pk in blocked})
    if not serving:
        return ShippingOffer([], f"Sorry, we do not ship to {country.upper()} yet.")
    place = COUNTRY_NAMES.get(country.upper(), country.upper())
    names = sorted({name for names in blocked.values() for name in names})
    return ShippingOffer([], f"{rules.scope_name(names)} cannot ship to {place}: remove "
                             f"{'it' if len(names) == 1 else 'them'} from your cart or choose another address.")


def shipping_method_for(code: str, *, country: str, postcode: str = "", product_ids=()) -> ShippingInput:
    """The method `code` of the address's zone as the engine takes it, if it takes every one of
    `product_ids`. Raises UnknownShippingMethod (with what to choose instead, or why none)."""
    offer = shipping_offer(country, postcode, product_ids)
    method = next((m for m in offer.methods if m.code == code), None)
    if method is None:
        names = ", ".join(m.name for m in offer.methods)
        if code in offer.excluded:
            raise UnknownShippingMethod(offer.refusal(code, country))
        raise UnknownShippingMethod(
            f"We cannot ship by {code!r} to {country}. " + (f"Choose one of: {names}." if names else offer.reason))
    bands = method.bands.all() if method.pk else ()  # the settings fallback has no bands
    return ShippingInput(code=method.code, name=method.name, price=method.price, free_above=method.free_above,
                         bands=tuple(WeightBand(up_to=band.up_to, price=band.price) for band in bands))


def line_inputs(items: list[tuple[Variant, int]]) -> list[LineInput]:
    """(variant with its product loaded, quantity) pairs as engine lines, keyed by variant id."""
    return [LineInput(key=variant.pk, quantity=quantity, unit_price=variant.unit_price, list_price=variant.price,
                      tax_class=variant.product.tax_class, weight=variant.shipping_weight, name=variant.product.name,
                      price_reason=variant.price_reason)
            for variant, quantity in items]


def voucher_input(voucher: Voucher, items: list[tuple[Variant, int]]) -> VoucherInput:
    """`voucher` as the engine takes it, with the keys (variant ids) of the lines in its scope.
    Gift cards are never in a voucher's scope: a card is money, and 10% off a $25 card would sell
    $25 for $22.50."""
    products, scope = rules.voucher_scope(voucher, {variant.product_id for variant, _ in items})
    eligible = None if products is None else frozenset(v.pk for v, _ in items if v.product_id in products)
    cards = {variant.pk for variant, _ in items if variant.product.is_gift_card}
    if cards:
        eligible = frozenset((eligible if eligible is not None else {v.pk for v, _ in items}) - cards)
    return VoucherInput(code=voucher.code, kind=voucher.kind, value=voucher.value, min_subtotal=voucher.min_subtotal,
                        eligible=eligible, scope=scope)


def price_cart(items: list[tuple[Variant, int]], *, country: str | None = None, postcode: str = "",
               shipping_method: str | None = None, voucher: Voucher | None = None, voucher_code: str = "",
               customer=None, email: str = "") -> PricedCart:
    """Price (variant, quantity) pairs for delivery to `country` (None: the shop's own country, an
    estimate for the cart page) by `shipping_method` (None: no shipping yet), with `voucher` (a
    locked, checked Voucher at order time) or `voucher_code` (checked now for this shopper; a code
    that cannot be used gives nothing and its reason in `voucher_error`).

    Raises UnknownShippingMethod when the method is not offered for the address or cannot take
    the parcel's weight or one of its products.
    """
    destination = (country or settings.SHOP_TAX_ORIGIN_COUNTRY).upper()
    policy = shop_policy()
    label = rules.tax_name(destination) or policy.tax_label
    policy = replace(policy, tax_label=label)
    rates = TaxRates(destination=rules.tax_rates(destination), origin=rules.tax_rates(settings.SHOP_TAX_ORIGIN_COUNTRY))
    shipping = (shipping_method_for(shipping_method, country=destination, postcode=postcode,
                                    product_ids={variant.product_id for variant, _ in items})
                if shipping_method else None)
    voucher_error = ""
    if voucher is None and voucher_code:
        try:
            voucher = usable_voucher(voucher_code, customer=customer, email=email)
        except VoucherNotApplicable as problem:
            voucher_error = str(problem)
    try:
        priced = price(line_inputs(items), policy=policy, rates=rates, shipping=shipping,
                       voucher=voucher_input(voucher, items) if voucher is not None else None)
    except ShippingNotAvailable as problem:
        raise UnknownShippingMethod(str(problem)) from None
    return replace(priced, voucher_error=voucher_error) if voucher_error else priced
