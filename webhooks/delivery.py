"""The delivery engine: relay due deliveries to the "webhooks" queue, and make one attempt.

    relay(...)                 hands due deliveries to Celery (webhooks.tasks.deliver, its own queue)
    attempt(delivery_id=...)   one signed POST of a claimed delivery, recorded as an Attempt

Each delivery is its own job with WEBHOOK_TIMEOUT seconds at most, so a slow or dead endpoint
costs one worker slot for that long per attempt and never holds up another endpoint's job queued
behind it for longer.

Retries (the rules of Standard Webhooks and Svix): timeouts, network errors, 5xx, 408 and 429 are
tried again after an exponential back-off with jitter (WEBHOOK_RETRY_BACKOFF seconds doubling up
to WEBHOOK_RETRY_BACKOFF_MAX, times a random 0.5-1) until WEBHOOK_RETRY_FOR seconds after the event
(a day: about 14 attempts); any other answer, a redirect (never followed), or a refused URL or
address is final. After WEBHOOK_DISABLE_AFTER_FAILURES failed attempts in a row (any deliveries)
the endpoint is disabled and the shop owner emailed through the outbox; its pending deliveries
fail at their next attempt. Switching it on again restarts the count (services.update_endpoint).

At least once on the wire, recorded once: an attempt claims its delivery under the row lock (a
lease, see attempt) before it sends, so two jobs for one delivery never both send it, and no
transaction stays open while a receiver answers. A worker killed mid-attempt records nothing: the
relay hands the delivery over again when its lease ends, and it is sent again with the same
webhook-id, for receivers to deduplicate.
"""
import logging
import random
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from outbox import services as outbox

from . import sender
from .models import Attempt, Delivery, Endpoint

logger = logging.getLogger(__name__)

RELAY_BATCH = 1000  # deliveries per relay run
LEASE_MARGIN = 5.0  # seconds an attempt's claim outlasts WEBHOOK_TIMEOUT (attempt)


def relay(*, delivery_ids: Iterable[int] | None = None, stale_after_seconds: float | None = None,
          now: datetime | None = None) -> int:
    """Hand due deliveries to Celery, one webhooks.tasks.deliver job each, oldest first, at most
    RELAY_BATCH: those of `delivery_ids`; otherwise those never handed over since their attempt
    became due, or handed over more than `stale_after_seconds` (default WEBHOOK_RELAY_STALE_SECONDS;
    0: all) ago. Stops at the first broker error (logged; the rest wait for the next relay).
    Returns how many were handed over. With eager Celery each is attempted here and now."""
    from . import tasks

    now = now or timezone.now()
    due = Delivery.objects.due(now)
    if delivery_ids is not None:
        due = due.filter(pk__in=list(delivery_ids))
    else:
        stale = settings.WEBHOOK_RELAY_STALE_SECONDS if stale_after_seconds is None else stale_after_seconds
        due = due.filter(Q(relayed_at__isnull=True) | Q(relayed_at__lt=F("next_attempt_at"))
                         | Q(relayed_at__lte=now - timedelta(seconds=stale)))
    return len(outbox.hand_over(tasks.deliver, due, now=now, what="Webhook relay", batch=RELAY_BATCH))


def backoff_seconds(attempts: int) -> float:
    """Seconds to wait after the `attempts`-th failed attempt: WEBHOOK_RETRY_BACKOFF x 2^(attempts-1),
    capped at WEBHOOK_RETRY_BACKOFF_MAX, times a random factor in [0.5, 1] ("equal jitter")."""
    base = min(settings.WEBHOOK_RETRY_BACKOFF * 2 ** max(attempts - 1, 0), settings.WEBHOOK_RETRY_BACKOFF_MAX)
    return base * random.uniform(0.5, 1.0)


def request_for(delivery: Delivery, *, now: datetime) -> tuple[bytes, dict[str, str]]:
    """The body and signed headers of `delivery` sent at `now`."""
    event = delivery.event
    body = sender.body_for(event_id=event.public_id, event_type=event.type, created_at=event.created_at,
                           sequence=event.pk, data=event.data)
    headers = sender.signed_headers(message_id=delivery.message_id, body=body,
                                    secrets=delivery.endpoint.signing_secrets(now), at=now)
    return body, headers


def attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Make one attempt of delivery `delivery_id` if it is pending and due at `now` (default: now),
    and record it: "succeeded", "retry" (the next attempt is scheduled) or "failed" (given up).
    Returns "skipped" when it is not pending, not due, gone, or being attempted by another job.
    Never raises for the receiver's or the network's faults.

    No database transaction is open while the request is on the wire: the delivery is claimed
    first (its next attempt moved to the end of a lease of WEBHOOK_TIMEOUT + LEASE_MARGIN seconds,
    so neither another job nor the relay takes it meanwhile), the POST is made, and the outcome is
    recorded in a second short transaction. An attempt whose process dies on the wire leaves the
    delivery pending and unrecorded; the relay hands it over again when the lease ends."""
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.WEBHOOK_TIMEOUT + LEASE_MARGIN)
    with transaction.atomic():
        delivery = (Delivery.objects.select_for_update(skip_locked=True, of=("self",))
                    .select_related("endpoint", "event").filter(pk=delivery_id).first())
        if delivery is None or delivery.status != Delivery.Status.PENDING or delivery.next_attempt_at > now:
            return "skipped"
        Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=lease_until)  # the claim
    endpoint = delivery.endpoint
    body, headers = request_for(delivery, now=now)
    switched_off = endpoint.disabled_at is not None or not endpoint.is_active
    if switched_off and delivery.event.type != "webhook.test":  # a test may try an endpoint before going live
        result = sender.Result("failed", None, "", "the endpoint is disabled", 0.0)
    else:
        result = sender.post(url=endpoint.url, body=body, headers=headers)
    with transaction.atomic():
        claimed = (Delivery.objects.select_for_update()
                   .filter(pk=delivery.pk, status=Delivery.Status.PENDING, next_attempt_at=lease_until)
                   .values_list("attempts", flat=True).first())
        if claimed is None:  # the lease ran out and another attempt took the delivery over: it records
            logger.warning("Webhook delivery %s: an attempt outlived its lease; its outcome (%s) is not recorded",
                           delivery.pk, result.outcome)
            return "skipped"
        delivery.attempts = claimed
        outcome = _record(delivery, result, body=body, headers=headers, now=now)
    log = logger.info if outcome == "succeeded" else logger.warning
    log("Webhook delivery %s (%s) to %s, attempt %d: %s %s", delivery.pk, delivery.event.type, endpoint.url,
        delivery.attempts, outcome, result.error or result.status)
    return outcome


def _record(delivery: Delivery, result: sender.Result, *, body: bytes, headers: dict, now: datetime) -> str:
    """Write the attempt and the delivery's new state; count the endpoint's failures. Returns the outcome."""
    delivery.attempts += 1
    outcome = result.outcome
    if outcome == "retry":
        retry_in = backoff_seconds(delivery.attempts)
        if delivery.retry_until is not None and now + timedelta(seconds=retry_in) > delivery.retry_until:
            outcome = "failed"
        else:
            delivery.next_attempt_at = now + timedelta(seconds=retry_in)
    shown_headers = {name: value for name, value in headers.items() if name != "webhook-signature"}
    Attempt.objects.create(delivery=delivery, number=delivery.attempts, started_at=now, duration=result.duration,
                           request_headers=shown_headers, request_body=body.decode(), response_status=result.status,
                           response_body=result.body, error=result.error, outcome=outcome)
    delivery.last_status_code, delivery.last_error = result.status, result.error
    if outcome == "succeeded":
        delivery.status, delivery.done_at = Delivery.Status.SUCCEEDED, now
    elif outcome == "failed":
        delivery.status, delivery.done_at = Delivery.Status.FAILED, now
    delivery.save(update_fields=["attempts", "status", "next_attempt_at", "last_status_code", "last_error",
                                 "done_at"])
    if result.error == "the endpoint is disabled":
        return outcome
    if result.outcome == "succeeded":
        Endpoint.objects.filter(pk=delivery.endpoint_id, consecutive_failures__gt=0).update(consecutive_failures=0)
    else:
        _count_failure(delivery.endpoint_id, now=now)
    return outcome


def _count_failure(endpoint_id: int, *, now: datetime) -> None:
    """One more failed attempt for the endpoint; at WEBHOOK_DISABLE_AFTER_FAILURES in a row it is
    disabled and the owner is emailed (once: only the update that disabled it writes the email)."""
    Endpoint.objects.filter(pk=endpoint_id).update(consecutive_failures=F("consecutive_failures") + 1)
    disabled = Endpoint.objects.filter(
        pk=endpoint_id, disabled_at__isnull=True,
        consecutive_failures__gte=settings.WEBHOOK_DISABLE_AFTER_FAILURES).update(disabled_at=now)
    if disabled:
        logger.error("Webhook endpoint %s disabled after %d failed attempts in a row", endpoint_id,
                     settings.WEBHOOK_DISABLE_AFTER_FAILURES)
        outbox.enqueue(kind="webhooks.endpoint_disabled", payload={"endpoint_id": endpoint_id})
