"""Celery tasks of the payments app (beat: settings.CELERY_BEAT_SCHEDULE; the expiry also runs
when a worker starts, settings.CELERY_WORKER_READY_TASKS)."""
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from . import services


@shared_task
def expire_unpaid_orders() -> list[str]:
    """Cancel orders unpaid after SHOP_PAYMENT_TIMEOUT seconds, stock back; returns their numbers."""
    return services.expire_unpaid_orders()


@shared_task
def reconcile_payments(hours: int = 48) -> list[str]:
    """Apply what lost webhooks of the last `hours` hours would have; returns the changes."""
    return services.reconcile(since=timezone.now() - timedelta(hours=hours))
