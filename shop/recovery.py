"""Pending work is picked up again when a worker (re)starts or (re)connects to the broker.

Work the shop owes in the background is recorded in the database as pending, so a lost job is
never lost work: each app has a Celery task that finds it and does it, or sends its jobs again
(catalog.tasks.requeue_stale_images: images whose renditions are pending;
analytics.tasks.refresh_today: the rollups of the days after analytics.RollupWatermark;
outbox.tasks.relay: outbox messages not yet done). Beat runs them periodically; in addition,
settings.CELERY_WORKER_READY_TASKS lists them with the arguments for "right now" and
`RecoveryStep` sends each whenever a worker's consumer connects to the broker: when the worker
starts, and again after every lost connection (a Redis restarted without persistence has lost the
queued jobs), so a restarted worker completes what was pending without waiting for beat. An app
adds its own with `CELERY_WORKER_READY_TASKS += [("app.tasks.name", {...})]`.

A worker process that starts always sends them: it may replace one killed with jobs in hand
(prefetched or running, unacknowledged), which the broker gives back to no other worker before the
visibility timeout, so only a relay of what is still pending brings them back now. After a lost
connection every worker of a queue reconnects at once (Redis restarted), so a Redis key (SET NX,
RECOVERY_LOCK_SECONDS) lets the first one send them. The tasks themselves must be idempotent (they
are: they look at pending rows), so workers starting together each sending them costs only duplicates.
"""
import logging

from celery import bootsteps
from django.conf import settings

logger = logging.getLogger(__name__)

RECOVERY_LOCK_SECONDS = 10  # seconds: one recovery round for workers of a queue starting together
RECOVERY_LOCK_KEY = "ishop:worker-ready-recovery"


def _first_to_recover(queue: str | None) -> bool:
    if not settings.REDIS_URL:
        return True
    import redis

    try:
        with redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2) as client:
            return bool(client.set(f"{RECOVERY_LOCK_KEY}:{queue or 'default'}", "1", nx=True, ex=RECOVERY_LOCK_SECONDS))
    except redis.RedisError:
        logger.warning("Recovery lock unavailable; sending the recovery tasks anyway", exc_info=True)
        return True


def send_recovery_tasks(app, *, queue: str | None = None, force: bool = False) -> list[str]:
    """Send every task of CELERY_WORKER_READY_TASKS through `app` to `queue` (default: the default
    queue), unless another worker did in the last RECOVERY_LOCK_SECONDS and not `force`.
    Returns the names of the tasks sent."""
    if not force and not _first_to_recover(queue):
        logger.info("Worker connected: recovery tasks already sent by a peer of queue %s", queue or "default")
        return []
    sent = []
    for name, kwargs in settings.CELERY_WORKER_READY_TASKS:
        app.send_task(name, kwargs=kwargs, queue=queue)
        sent.append(name)
    logger.info("Worker connected: sent recovery tasks %s", sent)
    return sent


class RecoveryStep(bootsteps.StartStopStep):
    """A step of the worker's consumer (Celery's documented bootstep extension point): its start
    runs each time the consumer has connected to the broker and set up its task consumer, at the
    worker's start and after every reconnection. It sends the recovery tasks to the first queue
    this worker consumes, so that it (or its peers on that queue) runs them."""

    requires = ("celery.worker.consumer.tasks:Tasks",)

    def __init__(self, parent, **kwargs) -> None:
        super().__init__(parent, **kwargs)
        self.connections = 0  # how many times this worker's consumer has connected

    def start(self, c) -> None:
        consumed = list(c.app.amqp.queues.consume_from or c.app.amqp.queues)
        logger.info("Worker consuming from the broker (queue %s)", consumed[0] if consumed else "default")
        self.connections += 1
        try:
            send_recovery_tasks(c.app, queue=consumed[0] if consumed else None, force=self.connections == 1)
        except Exception:  # noqa: BLE001 - a worker must start even if the broker hiccups here
            logger.exception("Could not send the recovery tasks")
