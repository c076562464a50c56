"""The pricing engine (issue 26): the only code that decides what something costs. It turns (lines,
customer, address, shipping method, voucher code) into a priced cart: per line the unit price, the
discount and its reason, the tax rate and amount; per order the shipping, discount, tax, total and
a price explanation ("$57.00 − 10% SPRING10 = $51.30, incl. 20% VAT $8.55").

- engine.py: the arithmetic, no database (tests drive it directly);
- rounding.py: ROUND_HALF_UP to the currency's exponent, and splitting amounts over lines;
- explain.py: the explanation text;
- display.py: prices as shoppers are shown them, with or without tax (SHOP_DISPLAY_GROSS_PRICES);
- context.py: the engine fed from the database (settings, catalogue, promotions' rules).

Money is Decimal in settings.SHOP_CURRENCY; prices never come from the client.
"""
from .context import (ShippingOffer, ShippingRate, UnknownShippingMethod, available_methods, price_cart,
                      shipping_method_for, shipping_offer, shipping_rates, shop_policy)
from .engine import (LineInput, Policy, PricedCart, PricedLine, PricedShipping, Rounding, ShippingInput,
                     ShippingNotAvailable, TaxRates, VoucherInput, VoucherKind, WeightBand, price)

__all__ = [
    "LineInput", "Policy", "PricedCart", "PricedLine", "PricedShipping", "Rounding", "ShippingInput",
    "ShippingNotAvailable", "ShippingOffer", "ShippingRate", "TaxRates", "UnknownShippingMethod", "VoucherInput",
    "VoucherKind", "WeightBand", "available_methods", "price", "price_cart", "shipping_method_for", "shipping_offer",
    "shipping_rates", "shop_policy",
]
