"""The transactional outbox (DESIGN.md, "The outbox: side effects that must happen").

    enqueue(kind=..., payload=...)   inside the transaction that makes the side effect due
    relay(...)                       hands pending messages to Celery (outbox.tasks.deliver)
    deliver(message_id=...)          runs the handler once in effect and records the outcome

The message row is written in the caller's transaction, so it exists exactly when the change that
needs it committed (a rolled-back order sends no confirmation). After commit it is relayed to the
broker at once; if the broker is down it stays pending and is relayed again by a worker when its
consumer (re)connects to the broker (shop.recovery: every pending message) and by beat every
OUTBOX_RELAY_INTERVAL seconds (pending messages never relayed, or relayed more than
OUTBOX_RELAY_STALE_SECONDS ago and still not done). A broker outage thus delays a message; it never
loses it.

Exactly once in effect: a relayed job carries only the message id, and `deliver` runs the handler
while it holds the message's row lock and marks it sent in the same transaction, so a job delivered
twice (a relay after a reconnection, a redelivery) finds it sent, or locked by the other run, and
does nothing. The one gap no database can close: a handler whose remote effect succeeded (the SMTP
server took the email) in a process killed before the commit runs again, and the effect happens twice.

Failures: the handler's exception is recorded (attempts, last_error) and the message is retried
after an exponential back-off (OUTBOX_RETRY_BACKOFF seconds, doubling, capped at
OUTBOX_RETRY_BACKOFF_MAX, times a random factor 0.5-1 so that retries spread out); after
OUTBOX_MAX_ATTEMPTS attempts it is marked failed and logged as an error. `retry_failed` puts failed
messages back in the queue (admin action, `manage.py outbox retry`).
"""
import json
import logging
import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from kombu.exceptions import OperationalError

from . import registry
from .models import Message

logger = logging.getLogger(__name__)

# Handing a job to the broker: one quick retry (a pooled connection gone stale after a Redis
# restart reconnects), no more, so that a request never waits on a dead broker.
PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}
RELAY_BATCH = 1000  # messages per relay run


class InvalidMessage(ValueError):
    """The kind has no handler, or the payload is not a JSON object."""


def enqueue(*, kind: str, payload: dict) -> Message:
    """Record that `kind` must happen with `payload` (its handler's keyword arguments: JSON-safe
    values, ids rather than rows), in the current transaction, and relay it once that commits (at
    once outside a transaction). Returns the pending message.

    Raises InvalidMessage for an unregistered kind or a payload that is not a JSON object."""
    try:
        registry.handler_for(kind)
        if not isinstance(payload, dict):
            raise TypeError("the payload must be a dict")
        json.dumps(payload)
    except (registry.UnknownKind, TypeError, ValueError) as exc:
        raise InvalidMessage(f"Outbox message {kind!r}: {exc}") from exc
    message = Message.objects.create(kind=kind, payload=payload)
    transaction.on_commit(partial(relay, message_ids=[message.pk]), robust=True)
    return message


def relay(*, message_ids: Iterable[int] | None = None, stale_after_seconds: float | None = None) -> int:
    """Hand pending, due messages to Celery (one outbox.tasks.deliver job each, oldest first, at
    most RELAY_BATCH): those in `message_ids` if given; otherwise those never relayed or relayed
    more than `stale_after_seconds` ago (default settings.OUTBOX_RELAY_STALE_SECONDS; 0: all).
    Stops at the first broker error (logged; the rest wait for the next relay). Returns how many
    were handed over. With eager Celery (the embedded default) each is delivered here and now."""
    from . import tasks

    now = timezone.now()
    due = Message.objects.due(now)
    if message_ids is not None:
        due = due.filter(pk__in=list(message_ids))
    else:
        stale = settings.OUTBOX_RELAY_STALE_SECONDS if stale_after_seconds is None else stale_after_seconds
        due = due.filter(Q(relayed_at__isnull=True) | Q(relayed_at__lte=now - timedelta(seconds=stale)))
    return len(hand_over(tasks.deliver, due, now=now, what="Outbox relay"))


def hand_over(task, due: QuerySet, *, now: datetime, what: str, batch: int = RELAY_BATCH) -> list[int]:
    """Send `task` one job per row of `due` (a queryset of a model with a `relayed_at` field), the
    row's id its only argument, oldest first, at most `batch`. The rows are stamped relayed at
    `now` first, in a statement of their own, and only then published: a job taken by a worker at
    once must not find its row still locked by its own relay's stamp (deliveries skip a locked row
    as being delivered by another job, and the row would wait for the stale relay, minutes; two CI
    runs lost emails so). So call this outside a transaction (after commit, in a task); a row
    being delivered right now makes it wait for that delivery's commit.

    Each publish is retried once (PUBLISH_RETRY_POLICY); the first failure stops the relay: a
    broker outage (expected, a warning) or anything else (eager mode runs the job here; logged in
    full), naming `what` and how many wait for the next relay; the rows not handed over get their
    stamp back off, so that the next relay takes them. Returns the ids handed over. Used by every
    relay of jobs kept in the database (this outbox, webhooks.delivery)."""
    ids = list(due.order_by("pk").values_list("pk", flat=True)[:batch])
    rows = due.model.objects.filter(pk__in=ids)
    rows.update(relayed_at=now)
    handed: list[int] = []
    for pk in ids:
        try:
            task.apply_async(args=[pk], retry=True, retry_policy=PUBLISH_RETRY_POLICY)
        except OperationalError as exc:  # the broker is unreachable: expected in an outage
            logger.warning("%s stopped, broker unavailable; %d wait for the next relay: %s",
                           what, len(ids) - len(handed), exc)
            break
        except Exception:  # noqa: BLE001 - anything else (eager mode runs the job here) is logged in full
            logger.exception("%s stopped; %d wait for the next relay", what, len(ids) - len(handed))
            break
        handed.append(pk)
    if len(handed) < len(ids):
        rows.filter(pk__in=ids[len(handed):]).update(relayed_at=None)
    return handed


@dataclass(frozen=True)
class Delivery:
    """What `deliver` did: outcome "sent", "retry" (retry_in seconds from now), "failed" (given
    up) or "skipped" (not pending, unknown, or being delivered by another run right now)."""

    outcome: str
    retry_in: float | None = None


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: OUTBOX_RETRY_BACKOFF x 2^(attempts-1),
    capped at OUTBOX_RETRY_BACKOFF_MAX, times a random factor in [0.5, 1] ("equal jitter", AWS
    Architecture Blog, "Exponential Backoff And Jitter", 2015)."""
    base = min(settings.OUTBOX_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.OUTBOX_RETRY_BACKOFF_MAX)
    return base * random.uniform(0.5, 1.0)


def deliver(*, message_id: int) -> Delivery:
    """Run the handler of pending message `message_id` under its row lock, and record the outcome
    in the same transaction: sent; or, when the handler raises, one more attempt with its error,
    then a retry after `backoff_seconds` or, after OUTBOX_MAX_ATTEMPTS attempts, failed. A message
    that is not pending, or is locked by another delivery, is skipped. Never raises for the
    handler's errors (database errors propagate)."""
    with transaction.atomic():
        message = Message.objects.select_for_update(skip_locked=True).filter(pk=message_id).first()
        if message is None or message.status != Message.Status.PENDING:
            return Delivery("skipped")
        now = timezone.now()
        message.attempts += 1
        try:
            with transaction.atomic():  # the handler's own writes go with its success only
                registry.handler_for(message.kind)(**message.payload)
        except Exception as exc:  # noqa: BLE001 - any failure is recorded and retried
            message.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if message.attempts >= settings.OUTBOX_MAX_ATTEMPTS:
                message.status, message.done_at = Message.Status.FAILED, now
                logger.error("Outbox message %s failed for good after %d attempts", message, message.attempts,
                             exc_info=True)
                delivery = Delivery("failed")
            else:
                retry_in = backoff_seconds(message.attempts)
                message.available_at = now + timedelta(seconds=retry_in)
                logger.warning("Outbox message %s failed (attempt %d), retry in %.0f s: %s", message,
                               message.attempts, retry_in, message.last_error)
                delivery = Delivery("retry", retry_in)
        else:
            message.status, message.done_at, message.last_error = Message.Status.SENT, now, ""
            delivery = Delivery("sent")
        message.save(update_fields=["attempts", "status", "done_at", "available_at", "last_error"])
    return delivery


def retry_failed(*, message_ids: Iterable[int] | None = None, kind: str | None = None) -> int:
    """Put failed messages (those in `message_ids`, or of `kind`, or all) back to pending with no
    attempts, and relay them after commit. Returns how many."""
    failed = Message.objects.filter(status=Message.Status.FAILED)
    if message_ids is not None:
        failed = failed.filter(pk__in=list(message_ids))
    if kind:
        failed = failed.filter(kind=kind)
    with transaction.atomic():
        ids = list(failed.select_for_update().values_list("pk", flat=True))
        Message.objects.filter(pk__in=ids).update(status=Message.Status.PENDING, attempts=0, done_at=None,
                                                  relayed_at=None, available_at=timezone.now())
        transaction.on_commit(partial(relay, message_ids=ids), robust=True)
    return len(ids)


def purge_sent(*, older_than_days: int | None = None) -> int:
    """Delete sent messages done more than `older_than_days` (default settings.OUTBOX_KEEP_SENT_DAYS)
    days ago; pending and failed ones are kept. Returns how many were deleted."""
    days = settings.OUTBOX_KEEP_SENT_DAYS if older_than_days is None else older_than_days
    cutoff = timezone.now() - timedelta(days=days)
    deleted, _ = Message.objects.filter(status=Message.Status.SENT, done_at__lt=cutoff).delete()
    return deleted
