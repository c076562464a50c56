"""Values every template needs: the shop's name and currency, and the top-level categories."""
from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Shop name, currency code and a lazy list of top-level categories for the header nav."""
    from catalog.tree import request_tree

    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        # callable: only read when a template uses it (catalog.tree: no query while the tree is unchanged)
        "nav_categories": lambda: request_tree(request).top_level,
    }
