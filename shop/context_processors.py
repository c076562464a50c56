"""Values every template needs: the shop's name, currency and branding, and the category menu."""
from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Shop name, currency code, branding (logo URL, brand and accent colours) and lazy lists of
    the top-level categories and of the header's mega-menu (catalog.menu.category_menu)."""
    from catalog.menu import category_menu
    from catalog.tree import request_tree

    return {
        "SHOP_NAME": settings.SHOP_NAME,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        "SHOP_LOGO_URL": settings.SHOP_LOGO_URL,
        "SHOP_BRAND_COLOUR": settings.SHOP_BRAND_COLOUR,
        "SHOP_ACCENT_COLOUR": settings.SHOP_ACCENT_COLOUR,
        # callables: only read when a template uses them (catalog.tree: no query while the tree is unchanged)
        "nav_categories": lambda: request_tree(request).top_level,
        "category_menu": lambda: category_menu(request),
    }
