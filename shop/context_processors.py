"""Values every template needs: the shop's name and currency, and the top-level categories."""
from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Shop name, currency code and a lazy list of top-level categories for the header nav."""
    from catalog.selectors import top_level_categories

    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        "nav_categories": top_level_categories,  # callable: only queried when a template uses it
    }
