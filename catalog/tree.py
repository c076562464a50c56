"""The category tree as a per-process snapshot: one query builds it, and every page then finds its
category, breadcrumbs, subcategories and the header's top-level categories without a query.

The tree is small (tens of rows) and changes rarely, but every storefront page shows part of it.
A snapshot is kept while the catalogue's versions are the ones it was built at:

- `versions.listing_version_key()`, bumped at once on every save or delete of a category (and of
  products, variants, images, and on stock changes): a change shows on the next request, in every
  process that shares the cache, and in tests whose transaction never commits;
- `versions.catalog_version_key()`, bumped *after* a category edit commits: a request that read
  the versions between the save and the commit (and so built the tree from the old rows) is
  rebuilt on the request after the commit.

Both are read in one cache round trip (the shop's one version scheme: shop/cache.py). With the
cache down the versions cannot be known, so the tree is read from the database on every call. A
snapshot also expires after MAX_AGE seconds, which bounds staleness when the cache is
process-local (the embedded default, no Redis).

Category rows in a snapshot are shared between requests and threads: read them, never change them.
"""
import threading
import time
from dataclasses import dataclass, field

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from . import versions as cache_versions
from .models import Category, Product

MAX_AGE = 60.0  # seconds a snapshot is kept at most, whatever the versions say


@dataclass
class CategoryTree:
    """Every category (hidden ones too, as breadcrumbs show them), indexed for page building.

    `top_level`: visible top-level categories; `children[id]`: a category's visible children; both
    in display order (position, then name, as the database sorts names)."""

    by_path: dict[str, Category] = field(default_factory=dict)
    by_id: dict[int, Category] = field(default_factory=dict)
    top_level: list[Category] = field(default_factory=list)
    children: dict[int, list[Category]] = field(default_factory=dict)
    _listings: dict[int, object] = field(default_factory=dict, repr=False)

    @classmethod
    def build(cls) -> "CategoryTree":
        """Read the whole tree (one query). Each category's `deepest_rank` is its place in the
        order deepest first, then by path (as the database sorts paths)."""
        tree = cls()
        deepest_first = Window(RowNumber(), order_by=[F("depth").desc(), F("path").asc()])
        for category in Category.objects.annotate(deepest_rank=deepest_first).order_by("position", "name", "pk"):
            tree.by_path[category.path] = category
            tree.by_id[category.pk] = category
            if not category.is_visible:
                continue
            if category.depth == 1:
                tree.top_level.append(category)
            if category.parent_id is not None:
                tree.children.setdefault(category.parent_id, []).append(category)
        return tree

    def visible(self, path: str) -> Category | None:
        """The visible category at `path` ("men/tops"), or None."""
        category = self.by_path.get(path)
        return category if category is not None and category.is_visible else None

    def listing(self, category: Category):
        """The products a shopper may see in `category` and below it (Product.objects.visible()
        .in_category), as a new unevaluated queryset. Built once per snapshot and category:
        building it costs more than running the page's other queries."""
        built = self._listings.get(category.pk)
        if built is None:
            built = self._listings[category.pk] = Product.objects.visible().in_category(category)
        return built.all()  # a copy: the kept one is never evaluated

    def breadcrumbs(self, category: Category | str) -> list[Category]:
        """`category` (or the category at that path) and its ancestors, top first."""
        parts = (category if isinstance(category, str) else category.path).split("/")
        paths = ("/".join(parts[: i + 1]) for i in range(len(parts)))
        return [self.by_path[path] for path in paths if path in self.by_path]

    def deepest(self, category_ids) -> Category | None:
        """The deepest of these categories (the first by path among equals), or None: the one a
        product's breadcrumbs lead to."""
        found = [self.by_id[pk] for pk in category_ids if pk in self.by_id]
        return min(found, key=lambda category: category.deepest_rank, default=None)

    def subcategories(self, category: Category) -> list[Category]:
        """The visible children of `category`, in display order."""
        return self.children.get(category.pk, [])


_lock = threading.Lock()
_held: tuple[tuple, float, CategoryTree] | None = None  # (versions, expires at, tree)


def version_keys() -> list[str]:
    """The cache keys of the versions a snapshot is valid for (read them with a page's other
    cache reads and pass what was found to request_tree, to spare a round trip)."""
    return [cache_versions.listing_version_key(), cache_versions.catalog_version_key()]


def _versions(found: dict | None = None) -> tuple | None:
    """The versions a snapshot is valid for, from `found` (values already read from the cache by
    key) or in one cache round trip; None when the cache is down."""
    versions = cache_versions.current_versions(version_keys(), found)
    return None if versions is None else tuple(versions)


def category_tree(found: dict | None = None) -> CategoryTree:
    """The current category tree: this process's snapshot when the catalogue has not changed since
    it was built, else a new one (one query). One cache read per call, none when `found` (cache
    values by key) holds the version_keys()."""
    global _held
    versions = _versions(found)
    if versions is None:
        return CategoryTree.build()
    held = _held
    if held is not None and held[0] == versions and held[1] > time.monotonic():
        return held[2]
    tree = CategoryTree.build()
    with _lock:
        _held = (versions, time.monotonic() + MAX_AGE, tree)
    return tree


def request_tree(request, found: dict | None = None) -> CategoryTree:
    """category_tree(found), read once per request (the view and the header both use it)."""
    tree = getattr(request, "_category_tree", None)
    if tree is None:
        tree = request._category_tree = category_tree(found)
    return tree
