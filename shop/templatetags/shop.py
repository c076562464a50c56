"""Site-wide template filters (`{% load shop %}`): money, rating stars, media URLs and product
attributes as shoppers read them. Markup lives in templates (templates/includes/, templates/catalog/);
these only turn values into text."""
from decimal import Decimal

from django import template
from django.conf import settings

register = template.Library()

CURRENCY_SYMBOLS = {"USD": "$", "GBP": "£", "EUR": "€", "CAD": "CA$", "AUD": "A$"}


@register.filter
def money(amount: Decimal | None, currency: str | None = None) -> str:
    """Format a Decimal amount as "$52.00" (symbol from the currency code; default the shop's)."""
    if amount is None or amount == "":
        return ""
    code = currency or settings.SHOP_CURRENCY
    symbol = CURRENCY_SYMBOLS.get(code)
    value = f"{Decimal(amount):,.2f}"
    return f"{symbol}{value}" if symbol else f"{value} {code}"


@register.filter
def media_url(path: str | None) -> str:
    """The public URL of a file stored in the default storage, or "" for no file
    (catalog.models.media_url)."""
    from catalog.models import media_url as stored_file_url

    return stored_file_url(path) if path else ""


@register.filter
def stars(rating: Decimal | None) -> str:
    """A five-star bar for an average rating: 4.3 -> "★★★★☆"."""
    if rating is None:
        return ""
    full = int(Decimal(rating) + Decimal("0.5"))
    return "★" * full + "☆" * (5 - full)


@register.filter
def attribute_value(value) -> str:
    """Show a product attribute: lists (multi-select values) joined by commas."""
    return ", ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


@register.filter
def attribute_label(key: str) -> str:
    """"eco_collection" -> "Eco collection"."""
    return key.replace("_", " ").capitalize()
