"""Celery's broker options (Redis), the tasks a worker sends when it connects, and beat's schedule."""
from celery.schedules import crontab



def broker_transport_options(*, visibility_timeout: int, unacked_restore_interval: int) -> dict:
    """CELERY_BROKER_TRANSPORT_OPTIONS, both arguments in seconds.

    A worker child killed mid-task (SIGKILL, OOM) gives its job back to the queue at once
    (CELERY_TASK_REJECT_ON_WORKER_LOST); a whole worker killed leaves it unacknowledged, and Redis
    hands it to another worker after `visibility_timeout`: keep it above the longest task and the
    longest retry countdown (600 s). Each worker looks for such jobs every
    `unacked_restore_interval` (kombu's default look is every 10 x 10 s; one ZRANGE every 10 s is
    cheap).
    """
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": unacked_restore_interval,
        "unacked_restore_throttle": 1,
    }


def worker_ready_tasks() -> list[tuple[str, dict]]:
    """CELERY_WORKER_READY_TASKS: (task name, kwargs) that pick up pending work (shop.recovery)."""
    return [
        ("outbox.tasks.relay", {"stale_after_seconds": 0}),  # every pending outbox message (first: customers
        # wait for these emails)
        ("catalog.tasks.requeue_stale_images", {"older_than_seconds": 0}),
        ("analytics.tasks.refresh_today", {}),  # the rollups owed since the last closed day
        ("payments.tasks.expire_unpaid_orders", {}),  # unpaid orders past SHOP_PAYMENT_TIMEOUT release their stock
        ("promotions.tasks.apply_promotions", {}),  # catalogue promotions that started meanwhile
        ("webhooks.tasks.relay", {"stale_after_seconds": 0}),  # webhook deliveries due (issue 28)
    ]


def task_routes(*, webhook_queue: str) -> dict:
    """CELERY_TASK_ROUTES: webhook deliveries go to `webhook_queue` (WEBHOOK_QUEUE), so that a
    backlog of them (an integrator's endpoint down) never queues ahead of the shop's own jobs
    (emails, images). The worker's --queues names it (Procfile, docker-compose.yml, deploy/k8s)."""
    return {"webhooks.tasks.deliver": {"queue": webhook_queue}}


def beat_schedule(*, outbox_relay_interval: float, promotions_refresh: float, recommendations_update: float,
                  webhook_relay_interval: float = 10.0) -> dict:
    """CELERY_BEAT_SCHEDULE; every argument in seconds."""
    return {
        "catalog-requeue-stale-images": {
            "task": "catalog.tasks.requeue_stale_images",
            "schedule": 300.0,  # seconds; re-sends jobs for images pending more than 10 minutes
        },
        # Analytics (issue 6): event buffer flush, today's rollups, closing yesterday.
        "analytics-flush-events": {"task": "analytics.tasks.flush_events", "schedule": 10.0},  # seconds
        "analytics-refresh-today": {"task": "analytics.tasks.refresh_today", "schedule": 300.0},  # seconds
        "analytics-close-yesterday": {"task": "analytics.tasks.close_day", "schedule": crontab(minute=15)},  # hourly
        "outbox-relay": {"task": "outbox.tasks.relay", "schedule": outbox_relay_interval},
        "outbox-purge-sent": {"task": "outbox.tasks.purge_sent", "schedule": crontab(hour=3, minute=40)},  # daily
        "payments-expire-unpaid": {"task": "payments.tasks.expire_unpaid_orders", "schedule": 60.0},  # seconds
        "payments-reconcile": {"task": "payments.tasks.reconcile_payments",
                               "schedule": crontab(minute=40, hour=3)},
        "recommendations-build": {"task": "recommendations.tasks.build_recommendations",
                                  "schedule": crontab(hour=3, minute=10)},  # nightly
        # and "also bought" for what sold since the last run (the window overlaps, so none is missed)
        "recommendations-update": {"task": "recommendations.tasks.update_recommendations",
                                   "schedule": recommendations_update, "kwargs": {"seconds": 2 * recommendations_update}},
        # Catalogue promotions that start (issue 26); those that end stop in the price rule itself.
        "promotions-apply": {"task": "promotions.tasks.apply_promotions", "schedule": promotions_refresh},
        # Outgoing webhooks (issue 28): deliveries due (first tries and retries), and old events purged.
        "webhooks-relay": {"task": "webhooks.tasks.relay", "schedule": webhook_relay_interval},
        "webhooks-purge": {"task": "webhooks.tasks.purge", "schedule": crontab(hour=3, minute=50)},  # daily
    }
