"""The price explanation: one line of plain text that shows how a priced cart's total came about,
e.g. "$57.00 − 10% SPRING10 = $51.30, incl. 20% VAT $8.55" (a sale price is simply the price), and
when a catalogue promotion won on some line it starts from the regular prices and names what won:
"$60.00 − Spring sale 5% off = $57.00 − 10% SPRING10 = $51.30, ...". Shown on the order page, stored on
the order and returned by the API (plain text: templates escape it like any other string)."""
from decimal import Decimal

from shop.templatetags.shop import money

from .rounding import ZERO


def percent(rate: Decimal) -> str:
    """A fraction as a percentage without trailing zeros: Decimal("0.2000") -> "20%"."""
    return f"{(rate * 100).normalize():f}%"


def explain(cart) -> str:
    """The explanation of `cart` (an engine.PricedCart)."""
    currency = cart.currency
    goods_discount = cart.goods_discount
    text = money(cart.subtotal, currency)
    if any(line.deal for line in cart.lines):
        # A catalogue promotion won on some line: the regular prices, what won on each, then the rest.
        list_total = sum((line.list_price * line.quantity for line in cart.lines), ZERO)
        reasons = sorted({line.price_reason for line in cart.lines if line.list_price > line.unit_price})
        text = f"{money(list_total, currency)} − {', '.join(reasons)} = {text}"
    running = cart.subtotal
    if goods_discount:
        running -= goods_discount
        text += f" − {_reason(cart)} = {money(running, currency)}"
    if cart.shipping is not None:
        text += f" + {cart.shipping.name} {money(cart.shipping.price, currency)}"
        running += cart.shipping.price
        if cart.shipping.discount:
            text += f" − free shipping {cart.voucher.code}"
            running -= cart.shipping.discount
        text += f" = {money(running, currency)}"
    if cart.tax:
        label = _tax_label(cart)
        if cart.policy.prices_include_tax:
            if running != cart.total:  # taken to the destination's rate (gross-entered prices)
                text += f" at the destination's tax = {money(cart.total, currency)}"
            text += f", incl. {label} {money(cart.tax, currency)}"
        else:
            text += f" + {label} {money(cart.tax, currency)} = {money(cart.total, currency)}"
    elif cart.policy.prices_include_tax and running != cart.total:
        text += f" without the shop's tax = {money(cart.total, currency)}"
    if cart.voucher_error:
        text += f" ({cart.voucher_error})"
    return text


def _reason(cart) -> str:
    reasons = sorted({line.discount_reason for line in cart.lines if line.discount_reason})
    return ", ".join(reasons)


def _tax_label(cart) -> str:
    rates = set(cart.tax_rates)
    if cart.shipping is not None and cart.shipping.tax:
        rates.add(cart.shipping.tax_rate)
    name = cart.policy.tax_label
    return f"{percent(rates.pop())} {name}" if len(rates) == 1 else name
