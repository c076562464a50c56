"""The catalogue's cache version keys, and which change bumps which (the scheme itself is
described in shop/cache.py, the page cache in shop/pagecache.py).

- `catalog_version_key()`: everything cached from the catalogue. Bumped after any save or delete
  of a category, product, image or review commits (CatalogConfig.ready).
- `category_version_key(path)` / `product_version_key(slug)`: one category's or one product's
  pages (and a category's listing facts and counts). Bumped after a stock or price change commits,
  for the products' pages, every category holding them and those categories' ancestors
  (`invalidate_products_on_commit`, called from catalog.services).
- `listing_version_key()`: the API's product listings (catalog.listing_cache) and the category
  tree snapshot (catalog.tree). Bumped at once on every save or delete of what a listing shows
  and on every stock change, so that a change shows on the next request even inside a
  transaction that has not committed yet (tests never commit).
"""
from collections.abc import Iterable

from django.db import transaction
from django.db.models import Q

from shop.cache import bump, current_versions, get_many, namespace

__all__ = ["bump", "current_versions", "get_many", "namespace", "catalog_version_key", "category_version_key",
           "product_version_key", "listing_version_key", "home_page_keys", "catalog_facets_prefix", "page_version_keys",
           "invalidate_products", "invalidate_products_on_commit", "invalidate_catalog_on_commit"]


def catalog_version_key() -> str:
    """The version key of everything cached from the catalogue."""
    return f"{namespace()}:v:catalog"


def category_version_key(path: str) -> str:
    """The version key of the pages of the category at `path` ("men/tops")."""
    return f"{namespace()}:v:c:{path}"


def product_version_key(slug: str) -> str:
    """The version key of the product page of `slug`."""
    return f"{namespace()}:v:p:{slug}"


def listing_version_key() -> str:
    """The version key of the API listings and the category tree snapshot."""
    return f"{namespace()}:v:listings"


def catalog_facets_prefix() -> str:
    """Key prefix for cached listing facets and counts (catalog.selectors.ListingFacts). They
    expire after SHOP_FACETS_CACHE_SECONDS, or at once when their versions move."""
    return f"{namespace()}:facets"


def ancestor_paths(path: str) -> list[str]:
    """ "a/b/c" -> ["a", "a/b", "a/b/c"]."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def category_page_keys(kwargs: dict) -> list[str]:
    """The version keys of the category page at URL kwargs {"path": ...}."""
    return [catalog_version_key(), category_version_key(kwargs["path"])]


def home_page_keys(kwargs: dict) -> list[str]:
    """The version keys of the home page: the catalogue's and the listings' (its rails and tiles
    show stock, prices and best sellers, which every stock change can move)."""
    return [catalog_version_key(), listing_version_key()]


def product_page_keys(kwargs: dict) -> list[str]:
    """The version keys of the product page at URL kwargs {"slug": ...}."""
    return [catalog_version_key(), product_version_key(kwargs["slug"])]


PAGE_VERSIONS = {"catalog:category": category_page_keys, "catalog:product": product_page_keys}


def page_version_keys(view_name: str, kwargs: dict) -> list[str]:
    """The version keys of the page of URL `view_name` ("catalog:category" or "catalog:product")
    with `kwargs`. Data cached for that page under them (ListingFacts) is as fresh as the page."""
    return PAGE_VERSIONS[view_name](kwargs)


def invalidate_products(*, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = ()) -> None:
    """Bump the versions of the pages showing these products (or these variants' products) now:
    their product pages, their categories' pages and those categories' ancestors'. Two queries.
    Use `invalidate_products_on_commit` inside a transaction."""
    from .models import Product

    product_ids, variant_ids = set(product_ids), set(variant_ids)
    if not (product_ids or variant_ids):
        return
    which = Q(pk__in=product_ids) | Q(variants__pk__in=variant_ids)
    slugs = set(Product.objects.filter(which).values_list("slug", flat=True))
    through = Product.categories.through.objects.filter(
        Q(product_id__in=product_ids) | Q(product__variants__pk__in=variant_ids))
    paths = {ancestor for path in through.values_list("category__path", flat=True).distinct()
             for ancestor in ancestor_paths(path)}
    bump([product_version_key(slug) for slug in slugs] + [category_version_key(path) for path in paths])


def invalidate_products_on_commit(*, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = ()) -> None:
    """`invalidate_products` after the current transaction commits (at once outside one)."""
    product_ids, variant_ids = sorted(set(product_ids)), sorted(set(variant_ids))
    if product_ids or variant_ids:
        transaction.on_commit(lambda: invalidate_products(product_ids=product_ids, variant_ids=variant_ids),
                              robust=True)


def invalidate_catalog_on_commit() -> None:
    """Bump the catalogue's version after commit (a product, category, image or review was edited)."""
    transaction.on_commit(lambda: bump([catalog_version_key()]), robust=True)
