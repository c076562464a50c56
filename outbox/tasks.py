"""Celery tasks of the outbox: deliver one message (ids in), relay pending ones, purge old ones."""
from celery import shared_task

from . import services


@shared_task(bind=True, acks_late=True, ignore_result=True, max_retries=None, soft_time_limit=60, time_limit=90)
def deliver(self, message_id: int) -> str:
    """Deliver outbox message `message_id` (services.deliver) and return the outcome; when the
    handler failed and may be retried, the same job is retried after the message's back-off
    (seconds). Running it again for a message already sent does nothing."""
    delivery = services.deliver(message_id=message_id)
    if delivery.outcome == "retry":
        raise self.retry(countdown=delivery.retry_in)
    return delivery.outcome


@shared_task(ignore_result=True)
def relay(stale_after_seconds: float | None = None) -> int:
    """Relay pending messages to the broker (beat, every OUTBOX_RELAY_INTERVAL seconds; and with
    stale_after_seconds=0 whenever a worker connects to the broker). Returns how many."""
    return services.relay(stale_after_seconds=stale_after_seconds)


@shared_task(ignore_result=True)
def purge_sent() -> int:
    """Delete sent messages older than OUTBOX_KEEP_SENT_DAYS (beat, daily). Returns how many."""
    return services.purge_sent()
