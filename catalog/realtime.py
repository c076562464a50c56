"""The channel layer side of live inventory: group names, message shapes, and a send that never
breaks the write that caused it.

Groups: one per variant (`stock.<variant id>`) for the public inventory stream, and `staff` for
the staff stream. Open connections per stream are counted in the cache (`ws:open:<stream>`), so
that with the Redis cache the count spans every daphne process.
"""
import logging
from collections.abc import Iterable

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

STAFF_GROUP = "staff"
STREAMS = ("inventory", "staff")


def stock_group(variant_id: int) -> str:
    """The group a page joins to hear about one variant's stock."""
    return f"stock.{variant_id}"


def stock_payload(*, variant_id: int, product_id: int, sku: str, stock: int, is_active: bool = True) -> dict:
    """The public stock message: {"type": "stock", "variant", "product", "sku", "stock" (units),
    "in_stock" (bool), "ts" (ISO 8601 time of sending)}."""
    return {"type": "stock", "variant": variant_id, "product": product_id, "sku": sku, "stock": stock,
            "in_stock": bool(is_active and stock > 0), "ts": timezone.now().isoformat()}


def send_group_messages(messages: Iterable[tuple[str, dict]]) -> bool:
    """Send (group, payload) pairs through the channel layer; consumers relay each payload as JSON.

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
            await layer.group_send(group, {"type": "relay", "payload": payload})

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


async def connection_opened(stream: str) -> None:
    """Count one more open socket on `stream` (errors are logged: counting is not worth a crash)."""
    try:
        await cache.aadd(_counter_key(stream), 0, timeout=None)
        await cache.aincr(_counter_key(stream))
    except Exception:  # noqa: BLE001
        logger.warning("Could not count an open %s connection", stream, exc_info=True)


async def connection_closed(stream: str) -> None:
    """Count one socket fewer on `stream`."""
    try:
        await cache.adecr(_counter_key(stream))
    except Exception:  # noqa: BLE001
        logger.warning("Could not count a closed %s connection", stream, exc_info=True)


def open_connections() -> dict[str, int]:
    """Open sockets per stream, e.g. {"inventory": 12, "staff": 1}."""
    counts = cache.get_many([_counter_key(stream) for stream in STREAMS])
    return {stream: max(int(counts.get(_counter_key(stream), 0)), 0) for stream in STREAMS}
