"""Money rounding for the pricing engine: ROUND_HALF_UP to the currency's exponent (ISO 4217, from
babel's CLDR data, as payments.money), and splitting a rounded amount over lines so that the
parts add up to it to the last minor unit (the largest-remainder method)."""
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

from babel.numbers import get_currency_precision

ZERO = Decimal("0")


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of `currency`: Decimal("0.01") for USD, Decimal("1") for JPY."""
    return Decimal(1).scaleb(-get_currency_precision(currency.upper()))


def round_money(amount: Decimal, currency: str) -> Decimal:
    """`amount` rounded half up to `currency`'s minor unit (2.345 USD -> 2.35)."""
    return Decimal(amount).quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def allocate(total: Decimal, weights: list[Decimal], currency: str) -> list[Decimal]:
    """Split `total` (already rounded to `currency`) over `weights` (>= 0) in proportion, each part
    rounded to the minor unit and the parts summing to `total` exactly. Leftover minor units go to
    the parts with the largest remainders (ties: the earlier part). All weights zero: all to none
    (every part zero) unless `total` is non-zero, then evenly by the same rule."""
    unit = minor_unit(currency)
    if not weights:
        return []
    weight_sum = sum(weights, ZERO)
    if weight_sum == 0:
        weights, weight_sum = [Decimal(1)] * len(weights), Decimal(len(weights))
    exact = [total * weight / weight_sum for weight in weights]
    return distribute(total, exact, currency, unit=unit)


def distribute(total: Decimal, exact: list[Decimal], currency: str, *, unit: Decimal | None = None) -> list[Decimal]:
    """Round each of the `exact` (>= 0) parts so that they sum to `total` (a rounded amount within
    len(exact) minor units of their exact sum): floor each part, then give one minor unit to each
    of the parts with the largest remainders until the sum is `total`."""
    unit = unit or minor_unit(currency)
    floors = [part.quantize(unit, rounding=ROUND_DOWN) for part in exact]
    missing = int((total - sum(floors, ZERO)) / unit)
    by_remainder = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:max(missing, 0)]:
        floors[index] += unit
    return floors
