"""Values every template needs: the shop's name, currency and branding, and the category menu."""
from django.conf import settings
from django.http import HttpRequest


def shop(request: HttpRequest) -> dict:
    """Shop name, currency code, whether prices are shown with tax and the tax's name, `branding` (branding.selectors.Branding: name, logo URL, brand and
    accent colours, font; the admin's site settings over the environment's, read once per page and
    only when a template uses it) and lazy lists of the top-level categories and of the header's
    mega-menu (catalog.menu.category_menu) with the `menu_version` its fragments are cached under."""
    from branding.selectors import site_branding
    from catalog.menu import category_menu
    from catalog.tree import request_tree

    return {
        # callables: only read when a template uses them (a cached page hit renders no template)
        "branding": lambda: site_branding(request),
        "SHOP_NAME": lambda: site_branding(request).shop_name,
        "SHOP_CURRENCY": settings.SHOP_CURRENCY,
        # prices shown with tax or without it (orders.pricing.display), named in the footer
        "SHOP_DISPLAY_GROSS_PRICES": settings.SHOP_DISPLAY_GROSS_PRICES,
        "SHOP_TAX_LABEL": settings.SHOP_TAX_LABEL,
        "nav_categories": lambda: request_tree(request).top_level,  # catalog.tree: no query while the tree is unchanged
        "category_menu": lambda: category_menu(request),
        # the versions the menu was built at: the key of its cached fragment ("" with the cache down)
        "menu_version": lambda: request_tree(request).version,
    }
