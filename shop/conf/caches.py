"""The cache and the channel layer: Redis when REDIS_URL is set, process-local otherwise."""
from django.core.exceptions import ImproperlyConfigured

CHANNEL_LAYER_BACKENDS = {
    "core": "channels_redis.core.RedisChannelLayer",
    "pubsub": "channels_redis.pubsub.RedisPubSubChannelLayer",
}


def caches(redis_url: str, *, socket_timeout: float, key_prefix: str) -> dict:
    """CACHES. With Redis, shop.cache.DegradingRedisCache: Redis errors become cache misses
    (logged), so pages and orders go on with Redis down; `socket_timeout` in seconds. Several
    shops (or test stacks) on one Redis keep their keys apart by `key_prefix`. Without Redis,
    the local-memory cache. "fragments" is each process's own memory, for template fragments keyed
    on the versions they were rendered at (shop/cache.py): no round trip, and a new version is a
    new key, so nothing there is ever stale."""
    fragments = {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "fragments",
                 "OPTIONS": {"MAX_ENTRIES": 1000}}
    if not redis_url:
        return {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}, "fragments": fragments}
    return {"default": {
        "BACKEND": "shop.cache.DegradingRedisCache",
        "LOCATION": redis_url,
        "OPTIONS": {"SOCKET_TIMEOUT": socket_timeout},
        "KEY_PREFIX": key_prefix,
    }, "fragments": fragments}


def channel_layers(redis_url: str, *, backend: str, prefix: str) -> dict:
    """CHANNEL_LAYERS. With Redis, `backend` is "pubsub" (faster fan-out in
    benchmarks/ws_fanout.py), "core" or a dotted class path, and `prefix` keeps the pub/sub channels
    (which ignore the Redis database number) of several shops apart. Without Redis, the in-memory
    layer. Raises ImproperlyConfigured for an unknown backend name."""
    if not redis_url:
        return {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    if backend not in CHANNEL_LAYER_BACKENDS and "." not in backend:
        raise ImproperlyConfigured(f"CHANNEL_LAYER_BACKEND={backend!r}: use core, pubsub or a dotted path.")
    return {"default": {
        "BACKEND": CHANNEL_LAYER_BACKENDS.get(backend, backend),
        # redis-py 8 gives every socket read a 5 s timeout, the same 5 s the core layer blocks in
        # BZPOPMIN, so an idle consumer would die with "Timeout reading from ..." (channels_redis#422).
        "CONFIG": {"hosts": [{"address": redis_url, "socket_timeout": 10, "socket_connect_timeout": 5}],
                   "prefix": prefix},
    }}
