"""Webhook endpoints and events: the only place that changes them (the delivery engine is
webhooks.delivery). The API, the admin, tasks and the domain services (through webhooks.events)
call these.

Rules:
- An event is written by `publish` in the transaction of the change that caused it, with one
  pending Delivery per active endpoint that subscribes to its type; a rolled-back change leaves
  neither. After commit the deliveries are relayed to the "webhooks" Celery queue
  (webhooks.delivery.relay); beat relays what is due every WEBHOOK_RELAY_INTERVAL seconds, and a
  worker does when it connects, so a broker outage delays an event and never loses it.
- Ordering: deliveries run in parallel and retries reorder them, so the order is carried, not
  kept: every body has a `sequence`, the event's number, strictly increasing in the order the
  events were written. Each endpoint receives its events with increasing sequence numbers (with
  gaps: events of types it does not subscribe to, rolled-back transactions). Two events about the
  same object (an order, a variant) are written under that object's row lock, so the later change
  always has the greater sequence: a receiver keeps the greatest sequence applied per object and
  ignores older ones.
- Secrets: "whsec_" + base64 of 32 random bytes, shown once (creation, rotation). After a
  rotation the previous secret signs too for WEBHOOK_SECRET_OVERLAP seconds (two signatures in
  webhook-signature), so receivers can switch without losing a delivery.
"""
import base64
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .models import EVENT_TYPES, Delivery, Endpoint, Event


class WebhookError(ValueError):
    """Input the webhooks refuse (an unknown event type, a URL that is not http(s)); safe to show."""


def generate_secret() -> str:
    """A new signing secret in the Standard Webhooks form: "whsec_" + base64 of 32 random bytes."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_event_types(events: Iterable[str]) -> list[str]:
    """`events` without duplicates, in EVENT_TYPES order. Raises WebhookError naming unknown types."""
    events = list(events)
    unknown = sorted(set(events) - set(EVENT_TYPES))
    if unknown:
        raise WebhookError(f"Unknown event type(s): {', '.join(unknown)}. Known: {', '.join(EVENT_TYPES)}.")
    return [event for event in EVENT_TYPES if event in events]


def create_endpoint(*, url: str, events: Iterable[str] = (), is_active: bool = True, description: str = "") -> Endpoint:
    """A new endpoint for `url` receiving `events` (empty: every type), with a new secret (read it
    once from the returned endpoint's `secret`). Raises WebhookError for unknown event types or a
    URL that is not http(s)."""
    if not url.lower().startswith(("http://", "https://")):
        raise WebhookError("The URL must start with http:// or https://.")
    return Endpoint.objects.create(url=url, events=check_event_types(events), is_active=is_active,
                                   description=description, secret=generate_secret())


def update_endpoint(*, endpoint: Endpoint, **changes) -> Endpoint:
    """Change `url`, `events`, `is_active` and/or `description` of `endpoint`. Switching an endpoint
    on (is_active true) also re-enables it after failures: its failure count starts again at 0.
    Raises WebhookError as create_endpoint does, or for another field."""
    unknown = set(changes) - {"url", "events", "is_active", "description"}
    if unknown:
        raise WebhookError(f"These fields cannot be changed: {', '.join(sorted(unknown))}.")
    if "url" in changes and not changes["url"].lower().startswith(("http://", "https://")):
        raise WebhookError("The URL must start with http:// or https://.")
    if "events" in changes:
        changes["events"] = check_event_types(changes["events"])
    for name, value in changes.items():
        setattr(endpoint, name, value)
    if changes.get("is_active"):
        endpoint.disabled_at, endpoint.consecutive_failures = None, 0
    endpoint.save()
    return endpoint


def delete_endpoint(*, endpoint: Endpoint) -> None:
    """Delete `endpoint` with its deliveries and their attempts (its events stay for other endpoints)."""
    endpoint.delete()


@transaction.atomic
def rotate_secret(*, endpoint: Endpoint, now: datetime | None = None) -> str:
    """Give `endpoint` a new secret and return it (shown once); the current one becomes the
    previous secret, which still signs for WEBHOOK_SECRET_OVERLAP seconds."""
    now = now or timezone.now()
    endpoint = Endpoint.objects.select_for_update().get(pk=endpoint.pk)
    endpoint.previous_secret, endpoint.secret = endpoint.secret, generate_secret()
    endpoint.previous_secret_expires_at = now + timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP)
    endpoint.save(update_fields=["secret", "previous_secret", "previous_secret_expires_at", "updated_at"])
    return endpoint.secret


def subscribers(*event_types: str) -> dict[str, list[int]] | list[int]:
    """Ids of the active endpoints that receive `event_type` (one query; endpoints are few). With
    several types: {type: ids} from the same one query."""
    rows = list(Endpoint.objects.active().values_list("pk", "events"))
    found = {kind: [pk for pk, events in rows if not events or kind in events] for kind in event_types}
    return found[event_types[0]] if len(event_types) == 1 else found


def publish(*, event_type: str, data: dict | Callable[[], dict], endpoint_ids: Iterable[int] | None = None,
            now: datetime | None = None) -> Event | None:
    """Write event `event_type` with `data` (a JSON-able dict, or a function returning it, called
    only when some endpoint subscribes) and one pending delivery per subscribed active endpoint
    (or per endpoint of `endpoint_ids`, active or not), in the caller's transaction; relay them
    after commit. Returns the event, or None when nobody subscribes (nothing is written).
    Raises WebhookError for an unknown event type."""
    if event_type not in EVENT_TYPES:
        raise WebhookError(f"Unknown event type {event_type!r}.")
    targets = subscribers(event_type) if endpoint_ids is None else list(endpoint_ids)
    if not targets:
        return None
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.create(type=event_type, data=data() if callable(data) else data, created_at=now)
        retry_until = now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
        deliveries = Delivery.objects.bulk_create(
            Delivery(endpoint_id=pk, event=event, next_attempt_at=now, retry_until=retry_until, created_at=now)
            for pk in targets)
    from .delivery import relay

    ids = [delivery.pk for delivery in deliveries]
    transaction.on_commit(partial(relay, delivery_ids=ids), robust=True)
    return event


def send_test(*, endpoint: Endpoint) -> Delivery:
    """Send a webhook.test event to `endpoint` alone (whatever its subscriptions; even switched
    off, so it can be tried before going live). Returns its delivery."""
    with transaction.atomic():
        event = publish(event_type="webhook.test", endpoint_ids=[endpoint.pk],
                        data={"endpoint": endpoint.pk, "url": endpoint.url,
                              "message": "A test event sent from the shop's admin or API."})
        return event.deliveries.get()


@transaction.atomic
def redeliver(*, endpoint: Endpoint, delivery_ids: Iterable[int] | None = None, failed_since: datetime | None = None,
              now: datetime | None = None) -> list[int]:
    """Queue deliveries of `endpoint` again, at once, with WEBHOOK_RETRY_FOR seconds of retries:
    those of `delivery_ids` (any status but pending), or every failed one created since
    `failed_since`. Each keeps its webhook-id, so a receiver that did get it can tell. Returns the
    ids queued (relayed after commit). Raises WebhookError when neither is given."""
    from .delivery import relay

    if delivery_ids is None and failed_since is None:
        raise WebhookError("Name the deliveries, or a time since which failed deliveries are sent again.")
    now = now or timezone.now()
    chosen = endpoint.deliveries.exclude(status=Delivery.Status.PENDING)
    if delivery_ids is not None:
        chosen = chosen.filter(pk__in=list(delivery_ids))
    else:
        chosen = chosen.filter(status=Delivery.Status.FAILED, created_at__gte=failed_since)
    ids = list(chosen.select_for_update().order_by("pk").values_list("pk", flat=True))
    Delivery.objects.filter(pk__in=ids).update(
        status=Delivery.Status.PENDING, next_attempt_at=now, relayed_at=None, done_at=None,
        retry_until=now + timedelta(seconds=settings.WEBHOOK_RETRY_FOR))
    transaction.on_commit(partial(relay, delivery_ids=ids), robust=True)
    return ids


def purge(*, older_than_days: int | None = None, now: datetime | None = None) -> int:
    """Delete events older than `older_than_days` (default WEBHOOK_KEEP_DAYS) whose deliveries are
    all done (with those deliveries and their attempts). Returns how many events were deleted."""
    days = settings.WEBHOOK_KEEP_DAYS if older_than_days is None else older_than_days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = Event.objects.filter(created_at__lt=cutoff).exclude(deliveries__status=Delivery.Status.PENDING)
    deleted = Event.objects.filter(pk__in=list(old.values_list("pk", flat=True)[:10_000])).delete()
    return deleted[1].get("webhooks.Event", 0)
