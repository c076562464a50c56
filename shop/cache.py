"""The shop's cache: one invalidation scheme (versions), and a Redis backend that degrades.

Versions
--------
Whatever is cached from the catalogue is stored together with the *versions* it was computed at:
random strings kept in the shared cache under version keys (the catalogue's, a category's, a
product's, the listings'; catalog/versions.py names them and says which change bumps which). A
reader fetches the versions with the entry in one round trip and uses the entry only while they are
the current ones. A change bumps the versions it affects (`bump`), usually after its transaction
commits, so nothing is deleted by key and nothing stale is served. Versions are read *before*
computing: an entry computed while a change commits is stored under the old versions and so never
served after the bump. Every entry also has a lifetime (its own setting), a bound for what no bump
reports. With the cache down the versions cannot be read, and everything is computed as if there
were no cache. SHOP_PAGE_CACHE_NAMESPACE prefixes every key: change it to drop everything.

What is cached, and what it buys (CPU per request, in-process on the 2-core development machine
with other work running, so as ratios more than as figures):
- Guests' category and product pages (shop.pagecache): a hit skips the view and its queries.
- A category's card grid, a `{% cache %}` fragment for shoppers with a session (shop.pagecache):
  24 cards take about 4 ms to render, 0.2-0.4 ms to fetch. (The filter form, about 1 ms, and the
  header, 0.45 ms and per shopper, measured too little to pay for a fragment.)
- A listing's facets and count (catalog.selectors.ListingFacts): the facets are two queries over
  every variant of the listing, the count one; kept for SHOP_FACETS_CACHE_SECONDS, the count only
  while the category's versions stand.
- API product-list pages (catalog.listing_cache): the serialised JSON, for
  SHOP_API_LIST_CACHE_SECONDS, under the listing version.
- The header's mega-menu and the footer's category list, `{% cache %}` fragments in each process's
  own memory (the "fragments" cache) under the category tree's versions: about 1.2 ms of the
  product page's 7-8 ms (in-process, Luma's Beaumont Summit Kit), on every storefront page.
- The category tree (catalog.tree), which every page shows part of: one query and about 3 ms to
  build, 0.16 ms to unpickle (fetched in the page's cache round trip); under the catalogue and
  listing versions.
Per-process memoisation is kept only for what cannot change while the process lives: reversed URL
paths (shop.urlcache, 30 -> 11 us a call, a dozen or more a page), a category's listing
queryset, which depends on its path alone (catalog.tree, 1.3 ms to build), and the unevaluated
querysets whose aggregates or EXISTS cost more to resolve than to run (catalog.selectors' card
rows and visible product variants, catalog.rails' sources: 3 of a listing's 4 ms of ORM work).
They hold no data, only query objects that each page clones and filters.

Degrading Redis
---------------
A Redis cache that degrades instead of failing when Redis is down.

The shop must keep serving pages and taking orders with Redis stopped (issue 8, "Failure
behaviour"): the cache is an optimisation, so a Redis error is logged and the call behaves as a
miss (reads give the default, writes are dropped, counters give their argument). Connection and
socket timeouts are short (settings.CACHE_REDIS_TIMEOUT, seconds) so that a dead Redis costs a
request at most that long per call, and after a failure the cache stays "off" for
CACHE_RETRY_AFTER seconds (one log line, no reconnect storm) before trying again.
"""
import logging
import re
import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache, RedisSerializer
from redis import Redis
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_RETRY_AFTER = 5.0  # seconds without trying Redis after a failure


# Django's incr in one round trip instead of two (EXISTS, then INCRBY): a missing key stays missing.
INCR_IF_EXISTS = "if redis.call('exists', KEYS[1]) == 1 then return redis.call('incrby', KEYS[1], ARGV[1]) end"


class _Down(Exception):
    pass


class DegradingRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache whose Redis errors become misses (logged).

    Reads (get, get_many) and the frequent writes (add, set, set_many, incr) go through one
    redis-py client kept for the life of the process (`reading_client`), with Django's
    serializer and the same Redis commands as Django's RedisCacheClient: that builds a new client,
    with its ~170 response callbacks, for every call, which was a third of what a page-cache hit
    costs beyond the bare view, and 1 ms of each API request's throttle (add + incr). Other
    writes go through Django's backend as they come. The shop configures one Redis URL: everything
    goes to the first server of LOCATION.
    """

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        timeout = options.pop("SOCKET_TIMEOUT", 1.0)
        options.setdefault("socket_timeout", timeout)
        options.setdefault("socket_connect_timeout", timeout)
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0
        self.reader_url = re.split("[;,]", server)[0] if isinstance(server, str) else server[0]
        self.reader_timeouts = {"socket_timeout": options["socket_timeout"],
                                "socket_connect_timeout": options["socket_connect_timeout"]}
        self.reader: Redis | None = None
        self.incr_script = None  # INCR_IF_EXISTS, registered with the reading client on first use
        self.serializer = RedisSerializer()  # Django's default for this backend (pickle; integers as they are)

    def reading_client(self) -> Redis:
        """The process's redis-py client for reads (its connection pool reconnects after an outage
        and after a fork)."""
        if self.reader is None:
            self.reader = Redis.from_url(self.reader_url, **self.reader_timeouts)
        return self.reader

    def _read_many(self, keys, version) -> dict:
        keys = list(keys)
        if not keys:
            return {}
        by_key = {self.make_key(key, version=version): key for key in keys}  # Redis takes any key: no memcached checks
        values = self.reading_client().mget(list(by_key))
        return {by_key[stored]: self.serializer.loads(value) for stored, value in zip(by_key, values) if value is not None}

    def _guard(self, operation: str, default, call):
        if time.monotonic() < self._down_until:
            return default
        try:
            return call()
        except (RedisError, OSError) as exc:
            logger.error("Cache unavailable (%s failed: %s: %s); serving without it for %.0f s",
                         operation, type(exc).__name__, exc, CACHE_RETRY_AFTER)
            self._down_until = time.monotonic() + CACHE_RETRY_AFTER
            return default

    def _write_args(self, key, value, timeout, version) -> tuple[str, object, int | None]:
        """(stored key, serialised value, seconds or None) as Django's RedisCache would write them."""
        return (self.make_and_validate_key(key, version=version), self.serializer.dumps(value),
                self.get_backend_timeout(timeout))

    def _add(self, key, value, timeout, version) -> bool:
        stored, dumped, seconds = self._write_args(key, value, timeout, version)
        if seconds == 0:  # Django's rule: added and expired at once
            return super().add(key, value, timeout=timeout, version=version)
        return bool(self.reading_client().set(stored, dumped, ex=seconds, nx=True))

    def _set(self, key, value, timeout, version) -> None:
        stored, value, seconds = self._write_args(key, value, timeout, version)
        if seconds == 0:
            self.reading_client().delete(stored)
        else:
            self.reading_client().set(stored, value, ex=seconds)

    def _incr(self, key, delta, version) -> int:
        if self.incr_script is None:
            self.incr_script = self.reading_client().register_script(INCR_IF_EXISTS)
        found = self.incr_script(keys=[self.make_and_validate_key(key, version=version)], args=[delta],
                                 client=self.reading_client())
        if found is None:
            raise ValueError(f"Key '{key}' not found.")
        return int(found)

    def _set_many(self, data, timeout, version) -> list:
        if not data:
            return []
        seconds = self.get_backend_timeout(timeout)
        pipeline = self.reading_client().pipeline()
        stored = {self.make_and_validate_key(key, version=version): self.serializer.dumps(value)
                  for key, value in data.items()}
        pipeline.mset(stored)
        if seconds is not None:
            for key in stored:
                pipeline.expire(key, seconds)
        pipeline.execute()
        return []

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("add", False, lambda: self._add(key, value, timeout, version))

    def get(self, key, default=None, version=None):
        return self._guard("get", default, lambda: self._read_many([key], version).get(key, default))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set", None, lambda: self._set(key, value, timeout, version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("touch", False, lambda: super(DegradingRedisCache, self).touch(key, timeout=timeout, version=version))

    def delete(self, key, version=None):
        return self._guard("delete", False, lambda: super(DegradingRedisCache, self).delete(key, version))

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, lambda: self._read_many(keys, version))

    def has_key(self, key, version=None):
        return self._guard("has_key", False, lambda: super(DegradingRedisCache, self).has_key(key, version))

    def incr(self, key, delta=1, version=None):
        return self._guard("incr", delta, lambda: self._incr(key, delta, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set_many", list(data), lambda: self._set_many(data, timeout, version))

    def delete_many(self, keys, version=None):
        return self._guard("delete_many", None, lambda: super(DegradingRedisCache, self).delete_many(keys, version))

    def clear(self):
        return self._guard("clear", False, lambda: super(DegradingRedisCache, self).clear())


def namespace() -> str:
    """The prefix of every key of the scheme ("page:<SHOP_PAGE_CACHE_NAMESPACE>")."""
    return f"page:{settings.SHOP_PAGE_CACHE_NAMESPACE}"


def _new_version() -> str:
    return uuid.uuid4().hex[:16]


def bump(keys: Iterable[str]) -> None:
    """Give these version keys new values: whatever was cached at the old ones is no longer used.
    Never raises (a cache outage must not undo a write; lifetimes bound the staleness)."""
    keys = list(keys)
    if not keys:
        return
    try:
        cache.set_many({key: _new_version() for key in keys}, timeout=None)
    except Exception:
        logger.exception("Could not bump %d cache versions", len(keys))


def get_many(keys: list[str]) -> dict:
    """cache.get_many(keys); {} (logged) when the cache is down."""
    try:
        return cache.get_many(keys)
    except Exception:
        logger.exception("Cache unavailable; computing without it")
        return {}


def current_versions(keys: list[str], found: dict | None = None) -> list[str] | None:
    """The current values of these version keys (from `found`, values already read, where it has
    them), creating missing ones; None if the cache is down."""
    found = dict(found or {})
    try:
        if any(key not in found for key in keys):
            found.update(cache.get_many([key for key in keys if key not in found]))
        for key in keys:
            if key not in found:
                value = _new_version()
                found[key] = value if cache.add(key, value, timeout=None) else cache.get(key)
        versions = [found[key] for key in keys]
    except Exception:
        logger.exception("Cache unavailable; computing without it")
        return None
    return None if None in versions else versions
