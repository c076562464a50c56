"""The channel layer side of live inventory: group names, message shapes, and a send that never
breaks the write that caused it.

Groups: one per variant (`stock.<variant id>`) for the public inventory stream, and `staff` for
the staff stream. Open connections per stream are counted in the cache (`ws:open:<stream>`), so
that with the Redis cache the count spans every daphne process.
"""
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.core.cache import DEFAULT_CACHE_ALIAS, caches
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.utils import timezone

logger = logging.getLogger(__name__)

STAFF_GROUP = "staff"
STREAMS = ("inventory", "staff", "chat", "staff_chat")  # the last two: support chat (chat.consumers)


def stock_group(variant_id: int) -> str:
    """The group a page joins to hear about one variant's stock."""
    return f"stock.{variant_id}"


def stock_payload(*, variant_id: int, product_id: int, sku: str, stock: int, is_active: bool = True) -> dict:
    """The public stock message: {"type": "stock", "variant", "product", "sku", "stock" (units),
    "in_stock" (bool), "ts" (ISO 8601 time of sending)}."""
    return {"type": "stock", "variant": variant_id, "product": product_id, "sku": sku, "stock": stock,
            "in_stock": bool(is_active and stock > 0), "ts": timezone.now().isoformat()}


def send_group_messages(messages: Iterable[tuple[str, dict]]) -> bool:
    """Send (group, payload) pairs through the channel layer; each payload reaches the sockets as JSON
    (relayed by StaffConsumer, or by the fan-out hub for the stock groups).

    Never raises: if the layer is down, the failure is logged and False returned, because a
    broadcast must never undo or break the write that caused it. Call it after commit.
    """
    messages = list(messages)
    if not messages:
        return True
    layer = get_channel_layer()
    if layer is None:
        return False

    async def send_all() -> None:
        for group, payload in messages:
            await layer.group_send(group, {"type": "relay", "group": group, "payload": payload})

    try:
        async_to_sync(send_all)()
    except Exception:  # noqa: BLE001 - any layer failure (Redis down, timeout) is logged, not raised
        logger.exception("Live update failed: %d message(s) not sent through the channel layer", len(messages))
        return False
    return True


def send_to_staff(event: dict) -> bool:
    """Push one event ({"type": "order_placed" | "low_stock", ...}) to every staff stream."""
    return send_group_messages([(STAFF_GROUP, event)])


def _counter_key(stream: str) -> str:
    return f"ws:open:{stream}"


_counter_cache = None


def _counters():
    """One cache client per process for the counters. `django.core.cache.cache` is per asyncio
    context, i.e. per socket: with the Redis cache that would be one Redis connection per socket."""
    global _counter_cache
    if _counter_cache is None:
        _counter_cache = caches.create_connection(DEFAULT_CACHE_ALIAS)
    return _counter_cache


@receiver(setting_changed)
def _forget_counter_cache(*, setting: str, **kwargs) -> None:
    global _counter_cache
    if setting == "CACHES":  # tests give the cache another key prefix
        _counter_cache = None


def _add_to_counter(stream: str, delta: int) -> None:
    # One atomic INCRBY (locmem: under its lock). Django's async aincr() is a get then a set in two
    # thread hops, which loses counts when sockets open and close at the same time.
    key, counters = _counter_key(stream), _counters()
    try:
        counters.incr(key, delta)
    except ValueError:  # no counter yet (first socket since the cache was cleared)
        if delta < 0:
            raise
        counters.add(key, 0, timeout=None)
        counters.incr(key, delta)


async def connection_opened(stream: str) -> None:
    """Count one more open socket on `stream` (errors are logged: counting is not worth a crash)."""
    try:
        await sync_to_async(_add_to_counter, thread_sensitive=False)(stream, 1)
    except Exception:  # noqa: BLE001
        logger.warning("Could not count an open %s connection", stream, exc_info=True)


async def connection_closed(stream: str) -> None:
    """Count one socket fewer on `stream`."""
    try:
        await sync_to_async(_add_to_counter, thread_sensitive=False)(stream, -1)
    except Exception:  # noqa: BLE001
        logger.warning("Could not count a closed %s connection", stream, exc_info=True)


def open_connections() -> dict[str, int]:
    """Open sockets per stream, e.g. {"inventory": 12, "staff": 1}."""
    counts = _counters().get_many([_counter_key(stream) for stream in STREAMS])
    return {stream: max(int(counts.get(_counter_key(stream), 0)), 0) for stream in STREAMS}
