"""Pricing settings as the environment spells them: flat shipping rates (which seed the default
shipping zone at migrate time) and the tax rounding mode."""
from decimal import Decimal

from django.core.exceptions import ImproperlyConfigured

DEFAULT_RATES = ["standard:Standard delivery (3-5 days):5.00", "express:Express delivery (next day):15.00"]
ROUNDING_MODES = ("line", "order")  # orders.pricing.engine.Rounding


def shipping_rates(items: list[str]) -> dict[str, tuple[str, Decimal]]:
    """{code: (label, price)} from "code:label:price" items; prices are Decimal in SHOP_CURRENCY."""
    return {code: (label, Decimal(price)) for code, label, price in (item.split(":") for item in items)}


def tax_rounding(mode: str) -> str:
    """SHOP_TAX_ROUNDING checked: "line" (each line's tax rounded) or "order" (the order's tax
    rounded once, then split over the lines). Raises ImproperlyConfigured for anything else."""
    if mode not in ROUNDING_MODES:
        raise ImproperlyConfigured(f"SHOP_TAX_ROUNDING must be one of {', '.join(ROUNDING_MODES)}, not {mode!r}.")
    return mode
