"""Flat shipping rates, as SHOP_SHIPPING_RATES spells them."""
from decimal import Decimal

DEFAULT_RATES = ["standard:Standard delivery (3-5 days):5.00", "express:Express delivery (next day):15.00"]


def shipping_rates(items: list[str]) -> dict[str, tuple[str, Decimal]]:
    """{code: (label, price)} from "code:label:price" items; prices are Decimal in SHOP_CURRENCY."""
    return {code: (label, Decimal(price)) for code, label, price in (item.split(":") for item in items)}
