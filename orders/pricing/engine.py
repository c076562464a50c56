"""The pricing engine proper: pure arithmetic, no database. orders.pricing.context loads the rules
(tax rates, the shipping method, the voucher) and calls `price()`; tests call it directly.

Order of work, one rule each (the bugs they avoid are named in issue 26):
1. unit price: the variant's selling price (its sale price or the best catalogue promotion
   applied, named by LineInput.price_reason in the explanation). With prices entered gross and a
   destination rate other than the shop's own, the price is taken back to net at the shop's rate
   and taxed at the destination's, so a buyer never pays the shop country's VAT (saleor#2287);
2. voucher: computed on those selling prices, never on the regular price (saleor#17453,
   oscar#2893), of the lines in its scope only (products/categories: VoucherInput.eligible),
   capped at their value, split over them by value (largest remainder);
3. shipping: the method's price for the goods' value after discount and their weight; a
   free-shipping voucher takes it off; shipping is taxed at the lines' weighted rate;
4. tax: per line or once per order (settings.SHOP_TAX_ROUNDING); either way the lines' tax sums
   to the order's tax to the minor unit (saleor#12348). Discounts never discount tax: tax is
   computed on the amount after the discount.

Amounts are Decimal in `Policy.currency`, rounded ROUND_HALF_UP to its exponent. Rates are
fractions (Decimal("0.20") for 20 %).
"""
from dataclasses import dataclass, field, replace
from decimal import Decimal

from catalog.models import promotion_in
from shop.templatetags.shop import money

from .display import ShownLine, shown_line
from .explain import explain
from .rounding import ZERO, allocate, distribute, round_money


class Rounding:
    """Where tax is rounded: on every line, or once on the order's total then split over lines."""

    LINE = "line"
    ORDER = "order"
    CHOICES = (LINE, ORDER)


class VoucherKind:
    PERCENTAGE = "percentage"
    FIXED = "fixed"
    FREE_SHIPPING = "free_shipping"


@dataclass(frozen=True)
class Policy:
    """The shop's pricing settings: currency; prices entered with tax (gross) or without (net);
    shown gross or net; tax rounded per "line" or per "order"; the tax's name ("VAT")."""

    currency: str
    prices_include_tax: bool = False
    display_gross: bool = True
    rounding: str = Rounding.LINE
    tax_label: str = "tax"


@dataclass(frozen=True)
class LineInput:
    """One cart line to price: `unit_price` is the selling price as entered (gross or net per
    Policy), `list_price` the regular price (for showing the saving), `weight` kg per unit."""

    key: object
    quantity: int
    unit_price: Decimal
    tax_class: str = "standard"
    list_price: Decimal | None = None
    weight: Decimal = ZERO
    name: str = ""
    price_reason: str = ""  # why unit_price is below list_price: a promotion's label or "Sale"


@dataclass(frozen=True)
class WeightBand:
    """Shipping costs `price` for goods weighing up to `up_to` kg."""

    up_to: Decimal
    price: Decimal


@dataclass(frozen=True)
class ShippingInput:
    """A shipping method's rule: `price` (entered as product prices are), or by weight `bands`
    (sorted or not; goods heavier than every band cannot go by this method), and free when the
    goods after discount reach `free_above` (None: never free)."""

    code: str
    name: str
    price: Decimal = ZERO
    bands: tuple[WeightBand, ...] = ()
    free_above: Decimal | None = None


@dataclass(frozen=True)
class VoucherInput:
    """A voucher to apply: `value` is a percentage (10 for 10 %) or an amount; `min_subtotal` the
    goods' value it needs (None: no minimum). `eligible`: the keys of the lines it applies to (None:
    every line), named by `scope` in reasons ("Jackets"); a cart with no eligible line gets nothing."""

    code: str
    kind: str
    value: Decimal = ZERO
    min_subtotal: Decimal | None = None
    eligible: frozenset | None = None
    scope: str = ""

    def applies_to(self, line: "LineInput") -> bool:
        """Whether the voucher discounts `line` (every line when it has no product/category scope)."""
        return self.eligible is None or line.key in self.eligible


@dataclass(frozen=True)
class TaxRates:
    """Rates by tax class: `destination` where the goods go, `origin` the shop's own country (used
    only to take gross-entered prices back to net). A class missing from a mapping is taxed at 0."""

    destination: dict = field(default_factory=dict)
    origin: dict = field(default_factory=dict)

    def rate(self, tax_class: str) -> Decimal:
        return Decimal(self.destination.get(tax_class, ZERO))

    def origin_rate(self, tax_class: str) -> Decimal:
        return Decimal(self.origin.get(tax_class, ZERO))


class ShippingNotAvailable(ValueError):
    """The goods are heavier than every weight band of the method; the message says so."""


@dataclass(frozen=True)
class PricedLine:
    """A line as priced. `unit_price` is what one unit sells for here (entered convention);
    `line_total` = unit_price x quantity before discount; `discount` with its `discount_reason`;
    `amount` = line_total - discount; `net` + `tax` = `gross` (after discount); `tax_rate` a fraction."""

    key: object
    quantity: int
    unit_price: Decimal
    list_price: Decimal
    line_total: Decimal
    discount: Decimal
    discount_reason: str
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal
    net: Decimal
    gross: Decimal
    price_reason: str = ""
    shown: ShownLine | None = None  # the line as shoppers are shown prices (with or without tax)

    @property
    def deal(self) -> str:
        """The catalogue promotion that set the unit price ("" for none, or the variant's own sale)."""
        return promotion_in(self.price_reason)


@dataclass(frozen=True)
class PricedShipping:
    """Shipping as priced: `price` before a free-shipping voucher, `discount`, then net/tax/gross."""

    code: str
    name: str
    price: Decimal
    discount: Decimal
    amount: Decimal
    tax_rate: Decimal
    tax: Decimal
    net: Decimal
    gross: Decimal
    shown: ShownLine | None = None  # as shoppers are shown prices (price, discount, amount)


@dataclass(frozen=True)
class PricedCart:
    """A priced cart. Order amounts: `subtotal` (lines before discount), `discount` (lines and
    shipping), `shipping` (None until a method is chosen), `tax`, `total` (what the shopper pays,
    gross), `net_total`. Every order amount is the exact sum of its line (and shipping) parts.
    `voucher_error` says why a given voucher gave nothing (e.g. below its minimum)."""

    lines: list[PricedLine]
    subtotal: Decimal
    discount: Decimal
    shipping: PricedShipping | None
    tax: Decimal
    total: Decimal
    net_total: Decimal
    currency: str
    policy: Policy
    voucher: VoucherInput | None = None
    voucher_error: str = ""
    explanation: str = ""

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def goods_discount(self) -> Decimal:
        return sum((line.discount for line in self.lines), ZERO)

    @property
    def shown_subtotal(self) -> Decimal:
        """The lines before discount as shoppers are shown prices (with or without tax)."""
        return sum((line.shown.line_total for line in self.lines), ZERO)

    @property
    def shown_goods_discount(self) -> Decimal:
        return sum((line.shown.discount for line in self.lines), ZERO)

    @property
    def tax_rates(self) -> list[Decimal]:
        """The distinct non-zero tax rates of the lines, highest first."""
        return sorted({line.tax_rate for line in self.lines if line.tax_rate}, reverse=True)


def destination_unit_price(unit_price: Decimal, tax_class: str, rates: TaxRates, policy: Policy) -> Decimal:
    """The unit price for this destination: as entered, except gross-entered prices under another
    rate than the shop's own, which are taken to net at the shop's rate and taxed at the destination's."""
    origin, destination = rates.origin_rate(tax_class), rates.rate(tax_class)
    if not policy.prices_include_tax or origin == destination:
        return unit_price
    return round_money(unit_price / (1 + origin) * (1 + destination), policy.currency)


def voucher_discount(voucher: VoucherInput | None, subtotal: Decimal, policy: Policy) -> tuple[Decimal, str]:
    """(discount off the goods, reason) for `voucher` on eligible goods worth `subtotal` (their
    selling price); "" reason for none. Capped at the subtotal: goods never go below zero."""
    if voucher is None or voucher.kind == VoucherKind.FREE_SHIPPING:
        return ZERO, ""
    scope = f" on {voucher.scope}" if voucher.scope else ""
    if voucher.kind == VoucherKind.PERCENTAGE:
        percent = min(max(voucher.value, ZERO), Decimal(100))
        return (round_money(subtotal * percent / 100, policy.currency),
                f"{percent.normalize():f}% {voucher.code}{scope}")
    return min(max(voucher.value, ZERO), subtotal), f"{voucher.code}{scope}"


def voucher_problem(voucher: VoucherInput | None, lines: list[LineInput], subtotal: Decimal,
                    currency: str) -> str:
    """Why `voucher` gives nothing on these goods (below its minimum, or no line in its scope); ""
    when it applies."""
    if voucher is None:
        return ""
    if voucher.min_subtotal is not None and subtotal < voucher.min_subtotal:
        return f"{voucher.code} needs {money(voucher.min_subtotal, currency)} of goods or more."
    if voucher.eligible is not None and not any(voucher.applies_to(line) for line in lines):
        return f"{voucher.code} applies to {voucher.scope or 'other products'} only."
    return ""


def shipping_price(method: ShippingInput, *, goods_value: Decimal, weight: Decimal) -> Decimal:
    """The method's price for goods worth `goods_value` (after discount) weighing `weight` kg.
    Raises ShippingNotAvailable when the goods are heavier than every band."""
    if method.free_above is not None and goods_value >= method.free_above:
        return ZERO
    if not method.bands:
        return method.price
    for band in sorted(method.bands, key=lambda band: band.up_to):
        if weight <= band.up_to:
            return band.price
    raise ShippingNotAvailable(f"{method.name} does not take parcels over "
                               f"{max(band.up_to for band in method.bands).normalize():f} kg.")


def _tax_parts(amount: Decimal, rate: Decimal, policy: Policy) -> Decimal:
    """The exact (unrounded) tax in `amount` (gross-entered) or on it (net-entered)."""
    return amount * rate / (1 + rate) if policy.prices_include_tax else amount * rate


def price(lines: list[LineInput], *, policy: Policy, rates: TaxRates | None = None,
          shipping: ShippingInput | None = None, voucher: VoucherInput | None = None) -> PricedCart:
    """Price `lines` for one destination (`rates`), with an optional shipping method and voucher.
    Raises ShippingNotAvailable (from the weight bands). A voucher whose minimum is not met, or
    with no line in its scope, is not applied, and `voucher_error` says why."""
    rates = rates or TaxRates()
    currency = policy.currency
    units = [destination_unit_price(line.unit_price, line.tax_class, rates, policy) for line in lines]
    totals = [unit * line.quantity for unit, line in zip(units, lines, strict=True)]
    subtotal = sum(totals, ZERO)
    voucher_error = voucher_problem(voucher, lines, subtotal, currency)
    applied = voucher if not voucher_error else None
    # Only the voucher's eligible lines are discounted, on their selling price (their share is 0).
    eligible = [total if applied is not None and applied.applies_to(line) else ZERO
                for total, line in zip(totals, lines, strict=True)]
    discount, reason = voucher_discount(applied, sum(eligible, ZERO), policy)
    discounts = allocate(discount, eligible, currency) if lines else []
    amounts = [total - part for total, part in zip(totals, discounts, strict=True)]
    line_rates = [rates.rate(line.tax_class) for line in lines]

    priced_shipping_parts = None
    if shipping is not None:
        goods_value = sum(amounts, ZERO)
        weight = sum((line.weight * line.quantity for line in lines), ZERO)
        ship_price = shipping_price(shipping, goods_value=goods_value, weight=weight)
        weights = amounts if goods_value else totals
        ship_rate = _weighted_rate(line_rates, weights)
        origin_rate = _weighted_rate([rates.origin_rate(line.tax_class) for line in lines], weights)
        if policy.prices_include_tax and origin_rate != ship_rate:
            ship_price = round_money(ship_price / (1 + origin_rate) * (1 + ship_rate), currency)
        ship_discount = ship_price if applied is not None and applied.kind == VoucherKind.FREE_SHIPPING else ZERO
        priced_shipping_parts = (ship_price, ship_discount, ship_price - ship_discount, ship_rate)

    exact = [_tax_parts(amount, rate, policy) for amount, rate in zip(amounts, line_rates, strict=True)]
    if priced_shipping_parts is not None:
        exact.append(_tax_parts(priced_shipping_parts[2], priced_shipping_parts[3], policy))
    if policy.rounding == Rounding.ORDER:
        taxes = distribute(round_money(sum(exact, ZERO), currency), exact, currency)
    else:
        taxes = [round_money(part, currency) for part in exact]

    priced_lines = []
    for line, unit, total, part, amount, rate, tax in zip(lines, units, totals, discounts, amounts, line_rates,
                                                            taxes, strict=False):
        net, gross = _net_gross(amount, tax, policy)
        list_price = max(unit if line.list_price is None else
                         destination_unit_price(line.list_price, line.tax_class, rates, policy), unit)
        priced_lines.append(PricedLine(
            key=line.key, quantity=line.quantity, unit_price=unit,
            list_price=list_price, line_total=total, discount=part, discount_reason=reason if part else "",
            amount=amount, tax_rate=rate, tax=tax, net=net, gross=gross,
            price_reason=line.price_reason,
            shown=shown_line(unit_price=unit, list_price=list_price, line_total=total, discount=part, tax=tax,
                             rate=rate, policy=policy)))
    priced_shipping = None
    if priced_shipping_parts is not None:
        ship_price, ship_discount, ship_amount, ship_rate = priced_shipping_parts
        net, gross = _net_gross(ship_amount, taxes[-1], policy)
        priced_shipping = PricedShipping(code=shipping.code, name=shipping.name, price=ship_price,
                                         discount=ship_discount, amount=ship_amount, tax_rate=ship_rate,
                                         tax=taxes[-1], net=net, gross=gross,
                                         shown=shown_line(unit_price=ship_price, list_price=ship_price,
                                                          line_total=ship_price, discount=ship_discount,
                                                          tax=taxes[-1], rate=ship_rate, policy=policy))
    parts = [*priced_lines, *([priced_shipping] if priced_shipping else [])]
    cart = PricedCart(
        lines=priced_lines, subtotal=subtotal,
        discount=discount + (priced_shipping.discount if priced_shipping else ZERO),
        shipping=priced_shipping, tax=sum((p.tax for p in parts), ZERO),
        total=sum((p.gross for p in parts), ZERO), net_total=sum((p.net for p in parts), ZERO),
        currency=currency, policy=policy, voucher=applied, voucher_error=voucher_error)
    return replace(cart, explanation=explain(cart))


def _net_gross(amount: Decimal, tax: Decimal, policy: Policy) -> tuple[Decimal, Decimal]:
    return (amount - tax, amount) if policy.prices_include_tax else (amount, amount + tax)


def _weighted_rate(rates: list[Decimal], weights: list[Decimal]) -> Decimal:
    """The rates' average weighted by `weights` (the lines' value); 0 for no weight at all."""
    weight_sum = sum(weights, ZERO)
    if not weight_sum:
        return ZERO
    return sum((rate * weight for rate, weight in zip(rates, weights, strict=True)), ZERO) / weight_sum
