"""Celery tasks of the webhooks: one delivery attempt (queue "webhooks"), the relay, the purge."""
from celery import shared_task

from . import delivery, services


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def deliver(delivery_id: int) -> str:
    """Make one attempt of delivery `delivery_id` (webhooks.delivery.attempt; its HTTP request is
    bounded by WEBHOOK_TIMEOUT seconds) and return the outcome. A retry is not scheduled here: the
    relay hands the delivery over again once its next attempt is due (beat, every
    WEBHOOK_RELAY_INTERVAL seconds), so no job waits in the broker for hours. Running it twice, or
    for a delivery done, does nothing more."""
    return delivery.attempt(delivery_id=delivery_id)


@shared_task(ignore_result=True)
def relay(stale_after_seconds: float | None = None) -> int:
    """Relay due webhook deliveries to the "webhooks" queue (beat, every WEBHOOK_RELAY_INTERVAL
    seconds; with stale_after_seconds=0 whenever a worker connects). Returns how many."""
    return delivery.relay(stale_after_seconds=stale_after_seconds)


@shared_task(ignore_result=True)
def purge() -> int:
    """Delete events older than WEBHOOK_KEEP_DAYS whose deliveries are done (beat, daily). Returns how many."""
    return services.purge()
