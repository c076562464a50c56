"""Today's rollups kept current without beat (issue 24).

An order placed, cancelled or refunded on the web shop writes an outbox message
`analytics.refresh_day` in its own transaction (analytics.signals); after commit its handler rebuilds
that one day's rollups (rollups.rebuild: a few GROUP BYs over one
day). With eager Celery (`make run`) that happens before the checkout's response; with a worker,
within a second. Beat's refresh_today stays as the safety net for days nobody ordered on.

Debounced twice: an order finds a message for its day still waiting to be relayed (same
transaction, or the broker down) and adds none; and a handler whose request is older than the
start of a later rebuild of its day, by more than COALESCE_SECONDS, does nothing (that rebuild read
its order), so a backed-up queue of a busy day coalesces into a few rebuilds.
"""
from __future__ import annotations

import time
from datetime import date, datetime

from django.core.cache import cache
from django.utils import timezone

from outbox import services as outbox
from outbox.models import Message
from outbox.registry import handles

from . import rollups

KIND = "analytics.refresh_day"
# An order's transaction commits within this many seconds of asking (a checkout is one request).
COALESCE_SECONDS = 2.0
STARTED_TTL = 2 * 24 * 3600  # seconds the start time of a day's last rebuild is remembered


def _started_key(day: str) -> str:
    return f"analytics:refresh-started:{day}"


def request_refresh(day: date) -> None:
    """Ask, in the current transaction, for `day`'s rollups (shop TIME_ZONE) to be rebuilt once it
    commits; nothing when a message for that day is already waiting to be relayed."""
    iso = day.isoformat()
    if Message.objects.pending().filter(kind=KIND, payload__day=iso, relayed_at__isnull=True).exists():
        return
    outbox.enqueue(kind=KIND, payload={"day": iso, "asked_at": time.time()})


@handles(KIND)
def refresh_day(*, day: str, asked_at: float) -> None:
    """Outbox handler: rebuild the rollups of `day` (ISO date), unless a rebuild of that day
    started more than COALESCE_SECONDS after `asked_at` (a UNIX time). Buffered events are not
    flushed here: this runs in the outbox's transaction, and a rollback would lose them (requests
    flush them, events.flush_if_due)."""
    started = cache.get(_started_key(day))
    if started is not None and started > asked_at + COALESCE_SECONDS:
        return
    cache.set(_started_key(day), time.time(), STARTED_TTL)
    target = date.fromisoformat(day)
    rollups.rebuild(start=target, end=target)


def day_of(moment: datetime) -> date:
    """The shop's calendar day (TIME_ZONE) of an aware datetime."""
    return timezone.localdate(moment)
