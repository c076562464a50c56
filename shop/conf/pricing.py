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


def from_env(env, *, default_country: str) -> tuple:
    """The pricing settings from the environment (an environ.Env), in this order:
    SHOP_PRICES_INCLUDE_TAX (prices entered with tax; default false), SHOP_DISPLAY_GROSS_PRICES
    (shown with tax; default: as entered, so nothing is converted), SHOP_TAX_ROUNDING ("line" or "order", see tax_rounding),
    SHOP_TAX_ORIGIN_COUNTRY (the shop's country; default `default_country`), SHOP_TAX_LABEL
    (default "tax") and SHOP_SHIPPING_RATES ("code:label:price,..." seeding the default zone at
    migrate; see shipping_rates). Raises ImproperlyConfigured for an unknown rounding mode."""
    include_tax = env.bool("SHOP_PRICES_INCLUDE_TAX", default=False)
    return (include_tax, env.bool("SHOP_DISPLAY_GROSS_PRICES", default=include_tax),
            tax_rounding(env("SHOP_TAX_ROUNDING", default="line")),
            env("SHOP_TAX_ORIGIN_COUNTRY", default=default_country), env("SHOP_TAX_LABEL", default="tax"),
            shipping_rates(env.list("SHOP_SHIPPING_RATES", default=DEFAULT_RATES)))
