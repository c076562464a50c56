"""Amounts in a currency's minor units, with the currency's real exponent (ISO 4217, from babel's
CLDR data: JPY has none, EUR two, KWD three). Never a hard-coded x100."""
from decimal import Decimal

from babel.numbers import get_currency_precision


def exponent(currency: str) -> int:
    """The number of decimal places of `currency` (ISO 4217 code), e.g. 0 for JPY, 3 for KWD."""
    return get_currency_precision(currency.upper())


def to_minor(amount: Decimal, currency: str) -> int:
    """`amount` (Decimal in `currency`) as an integer count of minor units. Raises ValueError if the
    amount has more decimal places than the currency allows."""
    minor = Decimal(amount).scaleb(exponent(currency))
    if minor != minor.to_integral_value():
        raise ValueError(f"{amount} {currency} is not a whole number of minor units")
    return int(minor)


def from_minor(minor: int, currency: str) -> Decimal:
    """An integer count of minor units of `currency` as a Decimal amount."""
    return Decimal(int(minor)).scaleb(-exponent(currency))
