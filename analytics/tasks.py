"""Celery tasks of analytics; each calls one service and returns a small summary. All idempotent:
a rebuild recomputes the same rows, a flush moves what is buffered.

- `flush_events()`: every 10 s (beat): buffered page-view events -> the Event table.
- `refresh_today()`: every 5 minutes (beat), and when a worker starts
  (settings.CELERY_WORKER_READY_TASKS): flush, then rebuild today's rollups and any day still owed
  since the last closed one (rollups.catch_up).
- `close_day(day=None)`: hourly at :15 (beat): rebuild yesterday (shop TIME_ZONE), so that the
  day is closed soon after midnight whatever the zone, with every late event and status change.
- `rebuild_range(start, end)`: any range, ISO dates, for staff tools.
"""
from datetime import date, timedelta

from celery import shared_task
from django.utils import timezone

from . import events, rollups

REBUILD_TIME_LIMIT = 600  # seconds; a full-history rebuild takes well under a minute


def _result(result: rollups.RebuildResult) -> dict:
    return {"start": str(result.start), "end": str(result.end), "rows": result.rows}


@shared_task(acks_late=True, ignore_result=True, time_limit=60, soft_time_limit=50)
def flush_events() -> int:
    """Write buffered events to the database; returns how many."""
    return events.flush()


@shared_task(acks_late=True, time_limit=REBUILD_TIME_LIMIT, soft_time_limit=REBUILD_TIME_LIMIT - 30,
             autoretry_for=(Exception,), retry_backoff=30, max_retries=3)
def refresh_today() -> dict:
    """Flush the event buffer, then recompute today's rollups and those of every earlier day still
    owed (days missed while no worker ran; rollups.catch_up). Returns the rebuild summary."""
    events.flush()
    return _result(rollups.catch_up())


@shared_task(acks_late=True, time_limit=REBUILD_TIME_LIMIT, soft_time_limit=REBUILD_TIME_LIMIT - 30,
             autoretry_for=(Exception,), retry_backoff=30, max_retries=3)
def close_day(day: str | None = None) -> dict:
    """Recompute one day's rollups (ISO date; default yesterday in the shop's TIME_ZONE)."""
    events.flush()
    target = date.fromisoformat(day) if day else timezone.localdate() - timedelta(days=1)
    return _result(rollups.rebuild(start=target, end=target))


@shared_task(acks_late=True, time_limit=REBUILD_TIME_LIMIT, soft_time_limit=REBUILD_TIME_LIMIT - 30)
def rebuild_range(start: str | None = None, end: str | None = None) -> dict:
    """Recompute the rollups from `start` to `end` (ISO dates, inclusive; defaults as in rebuild)."""
    return _result(rollups.rebuild(start=date.fromisoformat(start) if start else None,
                                   end=date.fromisoformat(end) if end else None))
