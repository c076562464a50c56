"""Recording shopper events without making a page wait for the event store.

`record(...)` serialises the event onto a list in this process. With REDIS_URL set, that list is a
batch: `push_batch()` moves it onto the shared buffer, a Redis list (one RPUSH for the batch, with
a 0.5 s socket timeout), when it holds ANALYTICS_BATCH_SIZE events or ANALYTICS_BATCH_SECONDS after
its first event (a timer thread), and at exit. A page view so costs no Redis round trip of its own.
Without Redis (the embedded laptop mode) the list is the buffer.
`flush()` moves up to `max_events` buffered events into the `Event` table with one bulk insert; the
beat runs it every few seconds (analytics.tasks.flush_events); without Redis (no beat) the end of a
request runs it at most every ANALYTICS_FLUSH_SECONDS, after the response has gone out. A buffer that is down costs
page-view events only, and is logged: order events never pass through it
(`record_now`, called from signals inside the order's own transaction).
"""
from __future__ import annotations

import atexit
import contextvars
import json
import logging
import threading
import time
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import Event

logger = logging.getLogger(__name__)

BUFFER_KEY = "analytics:events"
# The visitor id of the request being handled (set by EventMiddleware), for events that signals
# record deep inside a service (order_created) or in auth (user_login).
current_visitor: contextvars.ContextVar[str] = contextvars.ContextVar("analytics_visitor", default="")

_local_buffer: list[str] = []  # the buffer without Redis; with Redis, the batch not pushed yet
_local_lock = threading.Lock()
_push_timer: threading.Timer | None = None
_redis_client = None
_last_flush = 0.0
_redis_down_until = 0.0  # after a failure, skip Redis for a while rather than wait on it per request


def _redis():
    global _redis_client
    if _redis_client is None or _redis_client[0] != settings.REDIS_URL:
        import redis

        _redis_client = (settings.REDIS_URL, redis.Redis.from_url(settings.REDIS_URL, socket_timeout=0.5,
                                                                   socket_connect_timeout=0.5))
    return _redis_client[1]


def _uses_redis() -> bool:
    return bool(settings.REDIS_URL)


_EVENT_TYPES = frozenset(Event.Type.values)


def _payload(event_type: str, user_id, session_id: str, data: dict | None, at: datetime | None) -> dict:
    if event_type not in _EVENT_TYPES:
        raise ValueError(f"Unknown event type {event_type!r}.")
    return {"event_type": event_type, "timestamp": (at or timezone.now()).isoformat(),
            "user_id": user_id, "session_id": (session_id or current_visitor.get())[:64], "data": data or {}}


def record(event_type: str, *, user_id: int | None = None, session_id: str = "", data: dict | None = None,
           at: datetime | None = None) -> None:
    """Buffer one event (types: Event.Type). Never raises for a broken buffer (it logs instead);
    raises ValueError for an unknown event type (a programming error). `session_id` defaults to
    the current request's visitor id; `at` to now."""
    message = json.dumps(_payload(event_type, user_id, session_id, data, at), separators=(",", ":"))
    global _push_timer
    with _local_lock:
        _local_buffer.append(message)
        if not _uses_redis():
            return
        full = len(_local_buffer) >= settings.ANALYTICS_BATCH_SIZE
        if not full and _push_timer is None:
            _push_timer = threading.Timer(settings.ANALYTICS_BATCH_SECONDS, push_batch)
            _push_timer.daemon = True
            _push_timer.start()
    if full:
        push_batch()


def push_batch() -> int:
    """With Redis: move this process's batch of recorded events onto the shared buffer (one RPUSH).
    Returns how many moved. Never raises: with the buffer down the batch is dropped and logged
    (page views only), and Redis is left alone for 30 s rather than waited on per request."""
    global _push_timer, _redis_down_until
    with _local_lock:
        batch = _local_buffer[:]
        _local_buffer.clear()
        if _push_timer is not None:
            _push_timer.cancel()
            _push_timer = None
    if not batch or not _uses_redis():
        with _local_lock:
            _local_buffer[:0] = batch
        return 0
    if time.monotonic() < _redis_down_until:
        return 0
    try:
        _redis().rpush(BUFFER_KEY, *batch)
    except Exception:  # noqa: BLE001 - the page must not fail or wait because analytics is down
        _redis_down_until = time.monotonic() + 30
        logger.warning("analytics: event buffer unavailable for 30 s, %d events dropped", len(batch), exc_info=True)
        return 0
    return len(batch)


atexit.register(push_batch)


def record_now(event_type: str, *, user_id: int | None = None, session_id: str = "", data: dict | None = None,
               at: datetime | None = None) -> Event:
    """Write one event straight to the database, in the caller's transaction: for the events that
    must survive a lost buffer (order_created, order_cancelled). Returns the row."""
    payload = _payload(event_type, user_id, session_id, data, at)
    payload["timestamp"] = at or timezone.now()
    return Event.objects.create(**payload)


def _take(max_events: int) -> list[str]:
    if not _uses_redis():
        with _local_lock:
            taken = _local_buffer[:max_events]
            del _local_buffer[:max_events]
        return taken
    push_batch()
    pipe = _redis().pipeline(transaction=True)
    pipe.lrange(BUFFER_KEY, 0, max_events - 1)
    pipe.ltrim(BUFFER_KEY, max_events, -1)
    taken, _ = pipe.execute()
    return [item.decode() for item in taken]


def flush(max_events: int = 10_000) -> int:
    """Move up to `max_events` buffered events into the Event table (one bulk insert, in batches
    of 1000). Returns how many were written. Malformed buffer entries are logged and skipped."""
    global _last_flush
    _last_flush = time.monotonic()
    rows = []
    for message in _take(max_events):
        try:
            item = json.loads(message)
            rows.append(Event(event_type=item["event_type"], timestamp=datetime.fromisoformat(item["timestamp"]),
                              user_id=item.get("user_id"), session_id=item.get("session_id") or "",
                              data=item.get("data") or {}))
        except (ValueError, KeyError, TypeError):
            logger.warning("analytics: skipping a malformed buffered event: %.200s", message)
    Event.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def pending() -> int:
    """How many events wait in the buffer."""
    if not _uses_redis():
        return len(_local_buffer)
    return _redis().llen(BUFFER_KEY) + len(_local_buffer)


def clear_buffer() -> None:
    """Drop everything buffered, this process's batch and any remembered buffer outage (tests: a
    test that stopped Redis must not make the next one drop its events)."""
    global _push_timer, _redis_down_until
    _redis_down_until = 0.0
    with _local_lock:
        _local_buffer.clear()
        if _push_timer is not None:
            _push_timer.cancel()
            _push_timer = None
    if _uses_redis():
        _redis().delete(BUFFER_KEY)


def flush_if_due() -> None:
    """In the embedded mode (no Redis, so no beat): flush when the last flush is older than
    ANALYTICS_FLUSH_SECONDS. Called after a response has been sent. With Redis the beat's
    flush_events does it instead, and this does nothing. Errors are logged, never raised."""
    if _uses_redis() or time.monotonic() - _last_flush < settings.ANALYTICS_FLUSH_SECONDS:
        return
    try:
        flush()
    except Exception:  # noqa: BLE001
        logger.warning("analytics: flushing buffered events failed", exc_info=True)
