"""Celery's broker options (Redis)."""


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
