"""A Redis cache that degrades instead of failing when Redis is down.

The shop must keep serving pages and taking orders with Redis stopped (issue 8, "Failure
behaviour"): the cache is an optimisation, so a Redis error is logged and the call behaves as a
miss (reads give the default, writes are dropped, counters give their argument). Connection and
socket timeouts are short (settings.CACHE_REDIS_TIMEOUT, seconds) so that a dead Redis costs a
request at most that long per call, and after a failure the cache stays "off" for
CACHE_RETRY_AFTER seconds (one log line, no reconnect storm) before trying again.
"""
import logging
import time

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

CACHE_RETRY_AFTER = 5.0  # seconds without trying Redis after a failure


class _Down(Exception):
    pass


class DegradingRedisCache(RedisCache):
    """django.core.cache.backends.redis.RedisCache whose Redis errors become misses (logged)."""

    def __init__(self, server, params):
        options = dict(params.get("OPTIONS") or {})
        timeout = options.pop("SOCKET_TIMEOUT", 1.0)
        options.setdefault("socket_timeout", timeout)
        options.setdefault("socket_connect_timeout", timeout)
        super().__init__(server, {**params, "OPTIONS": options})
        self._down_until = 0.0

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

    def add(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("add", False, lambda: super(DegradingRedisCache, self).add(key, value, timeout=timeout, version=version))

    def get(self, key, default=None, version=None):
        return self._guard("get", default, lambda: super(DegradingRedisCache, self).get(key, default, version))

    def set(self, key, value, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set", None, lambda: super(DegradingRedisCache, self).set(key, value, timeout=timeout, version=version))

    def touch(self, key, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("touch", False, lambda: super(DegradingRedisCache, self).touch(key, timeout=timeout, version=version))

    def delete(self, key, version=None):
        return self._guard("delete", False, lambda: super(DegradingRedisCache, self).delete(key, version))

    def get_many(self, keys, version=None):
        return self._guard("get_many", {}, lambda: super(DegradingRedisCache, self).get_many(keys, version))

    def has_key(self, key, version=None):
        return self._guard("has_key", False, lambda: super(DegradingRedisCache, self).has_key(key, version))

    def incr(self, key, delta=1, version=None):
        return self._guard("incr", delta, lambda: super(DegradingRedisCache, self).incr(key, delta, version))

    def set_many(self, data, timeout=DEFAULT_TIMEOUT, version=None):
        return self._guard("set_many", list(data),
                           lambda: super(DegradingRedisCache, self).set_many(data, timeout=timeout, version=version))

    def delete_many(self, keys, version=None):
        return self._guard("delete_many", None, lambda: super(DegradingRedisCache, self).delete_many(keys, version))

    def clear(self):
        return self._guard("clear", False, lambda: super(DegradingRedisCache, self).clear())

