"""A short-lived cache for catalogue listings served by the API (GET /api/v1/products/), on the
shop's one invalidation scheme (shop/cache.py): each page is filed under the current value of
the listing version key (catalog.versions.listing_version_key), which moves on every change a
listing shows: any stock change (catalog.services), and any save or delete of a product, variant,
category, image or rendition (model signals, see CatalogConfig.ready).
SHOP_API_LIST_CACHE_SECONDS (default 30 s) bounds what no signal reports (bulk updates in an
import, rating upkeep). Set it to 0 to switch the cache off.

With REDIS_URL the cache (and the versions) are shared by every process; on the embedded default
each process has its own, so a change is seen at once by the process that made it and within the
cache lifetime by the others.
"""
import hashlib
import uuid

from django.conf import settings

from .versions import bump as bump_versions
from .versions import current_versions, listing_version_key, namespace


def bump() -> None:
    """Mark every cached listing (and the category tree snapshot) stale now. Never raises."""
    bump_versions([listing_version_key()])


def catalogue_changed(**kwargs) -> None:
    """Signal receiver for saves and deletes of what listings show: bump() at once. (Stock
    changes also bump after commit, from catalog.services; for other edits a reader between the
    save and the commit may cache the old page for at most the cache lifetime.)"""
    bump()


def cache_key(name: str, params, *extra: str) -> str:
    """The key of one listing page: `name`, the listing version, the query parameters (a
    QueryDict or dict; order does not matter) and any `extra` strings (the host, which the
    pagination links name). With the cache down, a key never used again."""
    versions = current_versions([listing_version_key()]) or [uuid.uuid4().hex]
    items = sorted((key, tuple(params.getlist(key)) if hasattr(params, "getlist") else params[key])
                   for key in params)
    digest = hashlib.sha256(repr((items, extra)).encode()).hexdigest()[:32]
    return f"{namespace()}:listing:{name}:{versions[0]}:{digest}"


def lifetime() -> int:
    """Seconds a listing page stays cached; 0 means no caching."""
    return settings.SHOP_API_LIST_CACHE_SECONDS
