"""Prices as shoppers are shown them: with tax (gross) or without (net), per
SHOP_DISPLAY_GROSS_PRICES (Policy.display_gross), whichever way they were entered
(SHOP_PRICES_INCLUDE_TAX, Policy.prices_include_tax).

When the two agree nothing is converted (the default). Otherwise a catalogue price (cards, the
product page, the wishlist: before the destination is known) is shown at the shop country's rate
for its tax class (`catalogue_price`), and a priced line or shipping at its own rate with the
engine's own tax (`shown_line`), so that the lines shown add up to the totals shown to the cent.
Money is Decimal in the policy's currency; rates are fractions (0.20 for 20 %).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial

from typing import TYPE_CHECKING

from .rounding import ZERO, round_money

if TYPE_CHECKING:
    from .engine import Policy


def converts(policy: Policy) -> bool:
    """Whether shown prices differ from entered ones (entered net and shown gross, or the reverse)."""
    return policy.prices_include_tax != policy.display_gross


def shown(amount: Decimal | None, rate: Decimal, policy: Policy) -> Decimal | None:
    """`amount` as entered under `policy`, as shoppers are shown it at `rate`, rounded half up to
    the minor unit. None stays None."""
    if amount is None or not rate or not converts(policy):
        return amount
    if policy.display_gross:
        return round_money(amount * (1 + rate), policy.currency)
    return round_money(amount / (1 + rate), policy.currency)


@dataclass(frozen=True)
class ShownLine:
    """A line (or shipping) as shown: `unit_price`, `list_price` (regular), `line_total` before
    discount, `discount`, and `amount` = line_total - discount, the line's gross or net."""

    unit_price: Decimal
    list_price: Decimal
    line_total: Decimal
    discount: Decimal
    amount: Decimal


def shown_line(*, unit_price: Decimal, list_price: Decimal, line_total: Decimal, discount: Decimal, tax: Decimal,
               rate: Decimal, policy: Policy) -> ShownLine:
    """A priced line's entered amounts as shown. The amount after discount is the engine's exact
    gross or net (amount ± its tax); the total before discount is converted at `rate` and the
    discount is the difference, so that shown totals minus shown discounts are the shown amounts."""
    amount = line_total - discount
    if not converts(policy):
        return ShownLine(unit_price, list_price, line_total, discount, amount)
    shown_amount = amount + tax if policy.display_gross else amount - tax
    total = max(shown(line_total, rate, policy), shown_amount) if discount else shown_amount
    return ShownLine(shown(unit_price, rate, policy), shown(list_price, rate, policy), total, total - shown_amount,
                     shown_amount)


def origin_rates(policy: Policy) -> dict[str, Decimal]:
    """{tax class: rate} of the shop's own country (SHOP_TAX_ORIGIN_COUNTRY): one query, and none
    ({}) when nothing is converted."""
    if not converts(policy):
        return {}
    from django.conf import settings

    from promotions.selectors import tax_rates

    return tax_rates(settings.SHOP_TAX_ORIGIN_COUNTRY)


def catalogue_price(amount: Decimal | None, tax_class: str, rates: dict[str, Decimal],
                    policy: Policy) -> Decimal | None:
    """A catalogue price (a variant's, a card's "from" price) as shoppers are shown it, with
    `rates` from origin_rates()."""
    return shown(amount, Decimal(rates.get(tax_class, ZERO)), policy)


def entered_price_bounds(low: Decimal | None, high: Decimal | None) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    """A shopper's price range as shown (`low`, `high`: Decimals or None for open) as entered
    prices, per tax class: {tax class: (lowest entered price shown >= low, entered price bound
    that shows above `high`)}. A catalogue price e of class c is shown within the range exactly
    when low_c <= e and e < high_c (shown prices are rounded half up to the minor unit, so the
    bounds sit half a minor unit out). {} when the shop shows prices as entered (no query): then
    the range applies to entered prices as it stands. Classes without a rate keep the range."""
    from catalog.models import TaxClass

    from .context import shop_policy
    from .rounding import minor_unit

    policy = shop_policy()
    if not converts(policy):
        return {}
    rates = origin_rates(policy)
    half = minor_unit(policy.currency) / 2
    bounds = {}
    for tax_class in TaxClass.values:
        factor = 1 + Decimal(rates.get(tax_class, ZERO))
        if not policy.display_gross:  # entered gross, shown net: e / factor is shown
            factor = 1 / factor
        bounds[tax_class] = (None if low is None else (low - half) / factor,
                             None if high is None else (high + half) / factor)
    return bounds


def catalogue_shower(tax_class: str) -> Callable[[Decimal | None], Decimal | None] | None:
    """A function showing the shop's catalogue prices of `tax_class` (reads the rates once), or
    None when the shop shows prices as entered (no query)."""
    from .context import shop_policy

    policy = shop_policy()
    if not converts(policy):
        return None
    return partial(catalogue_price, tax_class=tax_class, rates=origin_rates(policy), policy=policy)


def show_catalogue_prices(cards: list) -> None:
    """Set the "from" prices of catalogue cards (catalog.selectors.ProductCard: price_from,
    regular_price_from, tax_class) as shoppers are shown them, in place. Nothing, and no query,
    when the shop shows prices as entered."""
    from .context import shop_policy

    policy = shop_policy()
    if not cards or not converts(policy):
        return
    rates = origin_rates(policy)
    for card in cards:
        card.price_from = catalogue_price(card.price_from, card.tax_class, rates, policy)
        card.regular_price_from = catalogue_price(card.regular_price_from, card.tax_class, rates, policy)
