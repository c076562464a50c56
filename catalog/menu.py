"""The storefront's mega-menu: the visible category tree (catalog.tree) cut to MAX_DEPTH levels,
keeping only the categories under which a shopper can see a product (the tree's `stocked` paths,
read with the tree: no query while the catalogue is unchanged)."""
from dataclasses import dataclass, field

from .models import Category
from .tree import request_tree

MAX_DEPTH = 3  # issue 23: the Luma data has 9-level paths; a menu shows three


@dataclass
class MenuItem:
    """A category in the menu and its shown children (empty below MAX_DEPTH)."""

    category: Category
    children: list["MenuItem"] = field(default_factory=list)


def category_menu(request) -> list[MenuItem]:
    """The header's menu: visible top-level categories holding visible products, each with such
    children, to MAX_DEPTH levels, in the tree's display order."""
    tree = request_tree(request)

    def items(categories: list[Category], depth: int) -> list[MenuItem]:
        return [MenuItem(category, items(tree.subcategories(category), depth + 1) if depth < MAX_DEPTH else [])
                for category in categories if category.path in tree.stocked]

    return items(tree.top_level, 1)
