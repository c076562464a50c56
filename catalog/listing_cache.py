"""A short-lived cache for catalogue listings served by the API (GET /api/v1/products/).

Every cached page is filed under the catalogue's current *version*, a counter in the cache. The
counter moves on every change a listing shows: any stock change (catalog.services.broadcast_stock,
which every stock write calls), and any save or delete of a product, variant, category, image or
rendition (model signals, see CatalogConfig.ready). A new version makes every cached page stale at
once; SHOP_API_LIST_CACHE_SECONDS (default 30 s) bounds what no signal reports (bulk updates in an
import, rating upkeep). Set it to 0 to switch the cache off.

With REDIS_URL the cache (and the counter) are shared by every process; on the embedded default
each process has its own, so a change is seen at once by the process that made it and within the
cache lifetime by the others.
"""
import hashlib

from django.conf import settings
from django.core.cache import cache

VERSION_KEY = "catalog:listing-version"


def current_version() -> int:
    """The catalogue's listing version (starts at 1)."""
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, 1, timeout=None)
        version = cache.get(VERSION_KEY, 1)
    return version


def bump() -> None:
    """Mark every cached listing stale now. Never raises: a cache outage must not break a write."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # no counter yet (or evicted): any new value makes old keys unreachable
        cache.set(VERSION_KEY, current_version() + 1, timeout=None)
    except Exception:  # noqa: BLE001 - the lifetime still bounds staleness
        pass


def catalogue_changed(**kwargs) -> None:
    """Signal receiver for saves and deletes of what listings show: bump() at once. (Stock
    changes also bump after commit, from catalog.services' broadcast; for other edits a reader
    between the save and the commit may cache the old page for at most the cache lifetime.)"""
    bump()


def cache_key(name: str, params, *extra: str) -> str:
    """The key of one listing page: `name`, the catalogue version, the query parameters (a
    QueryDict or dict; order does not matter) and any `extra` strings (the host, which the
    pagination links name)."""
    items = sorted((key, tuple(params.getlist(key)) if hasattr(params, "getlist") else params[key])
                   for key in params)
    digest = hashlib.sha256(repr((items, extra)).encode()).hexdigest()[:32]
    return f"catalog:listing:{name}:v{current_version()}:{digest}"


def lifetime() -> int:
    """Seconds a listing page stays cached; 0 means no caching."""
    return settings.SHOP_API_LIST_CACHE_SECONDS
