"""The category tree, kept in the shared cache: one query builds it, and every page then finds its
category, breadcrumbs, subcategories and the header's top-level categories without a query.

The tree is small (tens of rows) and changes rarely, but every storefront page shows part of it.
A stored tree is used while the catalogue's versions are the ones it was built at:

- `versions.listing_version_key()`, bumped at once on every save or delete of a category (and of
  products, variants, images, and on stock changes): a change shows on the next request, in every
  process that shares the cache, and in tests whose transaction never commits;
- `versions.catalog_version_key()`, bumped *after* a category edit commits: a request that read
  the versions between the save and the commit (and so built the tree from the old rows) is
  rebuilt on the request after the commit.

Both are read with the stored tree in one cache round trip (the shop's one version scheme:
shop/cache.py). With the cache down the versions cannot be known, so the tree is read from the
database on every call. A stored tree also expires after MAX_AGE seconds, which bounds staleness
when the cache is process-local (the embedded default, no Redis).
"""
import logging
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.cache import cache
from django.db.models import Exists, F, OuterRef, Window
from django.db.models.functions import RowNumber

from . import versions as cache_versions
from .models import Category, Product

logger = logging.getLogger(__name__)

MAX_AGE = 60  # seconds a stored tree is kept at most, whatever the versions say


@dataclass
class CategoryTree:
    """Every category (hidden ones too, as breadcrumbs show them), indexed for page building.

    `top_level`: visible top-level categories; `children[id]`: a category's visible children; both
    in display order (position, then name, as the database sorts names). `stocked`: the paths of
    the categories holding a product a shopper may see (Product.objects.visible()), or holding
    such a category below them (the header's menu shows only these: catalog.menu). `version`:
    the versions it was built at, as one string ("" when the cache is down): what the header's
    menu fragment is cached under (templates/includes/header.html)."""

    by_path: dict[str, Category] = field(default_factory=dict)
    by_id: dict[int, Category] = field(default_factory=dict)
    top_level: list[Category] = field(default_factory=list)
    children: dict[int, list[Category]] = field(default_factory=dict)
    stocked: set[str] = field(default_factory=set)
    version: str = ""

    @classmethod
    def build(cls) -> "CategoryTree":
        """Read the whole tree (one query). Each category's `deepest_rank` is its place in the
        order deepest first, then by path (as the database sorts paths)."""
        tree = cls()
        deepest_first = Window(RowNumber(), order_by=[F("depth").desc(), F("path").asc()])
        holds_visible = Exists(Product.categories.through.objects.filter(
            category=OuterRef("pk"), product__in=Product.objects.visible()))
        for category in Category.objects.annotate(deepest_rank=deepest_first, holds_visible=holds_visible) \
                .order_by("position", "name", "pk"):
            if category.holds_visible:
                parts = category.path.split("/")
                tree.stocked.update("/".join(parts[: i + 1]) for i in range(len(parts)))
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
        .in_category), as a new unevaluated queryset."""
        return _listing(category.path).all()  # a copy: the kept one is never evaluated

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


@lru_cache(maxsize=1024)
def _listing(path: str):
    """Product.objects.visible().in_category() of the category at `path`, built once per process:
    the queryset depends on the path alone and never changes, and building it costs about 1.3 ms of
    CPU, more than running the page's other queries."""
    return Product.objects.visible().in_category(Category(path=path))


def version_keys() -> list[str]:
    """The cache keys a tree reading needs: its versions and the stored tree (read them with a
    page's other cache reads and pass what was found to request_tree, to spare a round trip)."""
    return [cache_versions.listing_version_key(), cache_versions.catalog_version_key(),
            f"{cache_versions.namespace()}:tree"]


def category_tree(found: dict | None = None) -> CategoryTree:
    """The current category tree: the one stored in the shared cache while the catalogue has not
    changed since it was built, else a new one (one query), stored. One cache read per call, none
    when `found` (cache values by key) holds the version_keys()."""
    *keys, tree_key = version_keys()
    if found is None or any(key not in found for key in keys):
        found = {**(found or {}), **cache_versions.get_many([*keys, tree_key])}
    versions = cache_versions.current_versions(keys, found)
    if versions is None:
        return CategoryTree.build()
    entry = found.get(tree_key)
    if entry is not None and entry["versions"] == versions:
        return entry["tree"]
    tree = CategoryTree.build()
    tree.version = ":".join(map(str, versions))
    try:
        cache.set(tree_key, {"versions": versions, "tree": tree}, timeout=MAX_AGE)
    except Exception:  # noqa: BLE001 - the tree is still served; the next page builds it again
        logger.exception("Could not cache the category tree")
    return tree


def request_tree(request, found: dict | None = None) -> CategoryTree:
    """category_tree(found), read once per request (the view and the header both use it)."""
    tree = getattr(request, "shop_category_tree", None)
    if tree is None:
        tree = request.shop_category_tree = category_tree(found)
    return tree
