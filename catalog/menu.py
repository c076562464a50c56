"""The storefront's mega-menu: the visible category tree (catalog.tree) cut to MAX_DEPTH levels,
keeping only the categories under which a shopper can see a product (Product.objects.visible()).

The set of categories that hold a visible product is one query, kept in the shared cache under the
catalogue's listing version (bumped on every product, variant, stock or category change), so a
page reads it in one cache round trip while nothing changed.
"""
from dataclasses import dataclass, field

from django.core.cache import cache

from shop.cache import current_versions

from . import versions
from .models import Category, Product
from .tree import request_tree

MAX_DEPTH = 3  # issue 23: the Luma data has 9-level paths; a menu shows three
MAX_AGE = 300  # seconds, whatever the version says (bounds staleness on a process-local cache)


@dataclass
class MenuItem:
    """A category in the menu and its shown children (empty below MAX_DEPTH)."""

    category: Category
    children: list["MenuItem"] = field(default_factory=list)


def stocked_paths() -> set[str]:
    """Paths of every category holding a visible product, with all their ancestors' paths."""
    keys = [versions.listing_version_key()]
    found = current_versions(keys)
    key = None if found is None else f"{versions.namespace()}:menu-paths:{found[0]}"
    paths = cache.get(key) if key else None
    if paths is None:
        direct = Category.objects.filter(products__in=Product.objects.visible()).values_list("path", flat=True)
        paths = {"/".join(path.split("/")[: i + 1]) for path in set(direct) for i in range(path.count("/") + 1)}
        if key:
            cache.set(key, paths, timeout=MAX_AGE)
    return paths


def category_menu(request) -> list[MenuItem]:
    """The header's menu: visible top-level categories holding visible products, each with such
    children, to MAX_DEPTH levels, in the tree's display order."""
    tree = request_tree(request)
    shown = stocked_paths()

    def items(categories: list[Category], depth: int) -> list[MenuItem]:
        return [MenuItem(category, items(tree.subcategories(category), depth + 1) if depth < MAX_DEPTH else [])
                for category in categories if category.path in shown]

    return items(tree.top_level, 1)
