"""Celery tasks of the product image room. Each takes ids, calls one service and returns.

Their names stay `catalog.tasks.*` (given explicitly): the beat schedule, the worker's
recovery list, queued messages and the task metrics name them so. catalog/tasks.py imports
them, so that Celery's autodiscovery of `catalog.tasks` registers them.

- `make_renditions(image_id)`: sent after commit whenever an image file is stored
  (catalog.images.services.save_product_image / product_images_saved).
- `requeue_stale_images()`: periodic (every 5 minutes, from CELERY_BEAT_SCHEDULE): re-sends the
  job of images left PENDING for more than 10 minutes (a lost message, a dead worker).
"""
import logging
from datetime import timedelta

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.utils.time import get_exponential_backoff_interval

from . import services

logger = logging.getLogger(__name__)

RENDITION_SOFT_TIME_LIMIT = 60  # seconds: the image is marked failed ("took too long")
RENDITION_TIME_LIMIT = 90  # seconds: the worker process is killed; the image stays pending
RENDITION_MAX_RETRIES = 5  # for storage/database errors, with exponential backoff
RETRY_BACKOFF = 15  # seconds: first retry waits up to this, then 30, 60... (full jitter)
RETRY_BACKOFF_MAX = 600  # seconds


@shared_task(
    name="catalog.tasks.make_renditions",
    bind=True,
    acks_late=True,  # a job taken by a worker that dies is delivered again
    ignore_result=True,
    max_retries=RENDITION_MAX_RETRIES,
    soft_time_limit=RENDITION_SOFT_TIME_LIMIT,
    time_limit=RENDITION_TIME_LIMIT,
)
def make_renditions(self, image_id: int) -> str:
    """Make the renditions, placeholder and dominant colour of ProductImage `image_id`.

    Idempotent (existing renditions are kept). A refused file marks the image failed and the
    task succeeds. Storage or database errors are retried with exponential backoff; after the
    last retry the image is marked failed with the error. Returns the outcome's status.
    """
    try:
        outcome = services.process_product_image(image_id=image_id)
    except SoftTimeLimitExceeded:
        reason = f"Processing took longer than {RENDITION_SOFT_TIME_LIMIT} seconds."
        services.mark_image_failed(image_id=image_id, reason=reason)
        return "failed"
    except Exception as exc:
        if self.request.called_directly:
            raise
        if self.request.retries >= self.max_retries:
            reason = f"Gave up after {self.request.retries + 1} attempts: {type(exc).__name__}: {exc}"
            services.mark_image_failed(image_id=image_id, reason=reason)
            raise
        countdown = get_exponential_backoff_interval(
            factor=RETRY_BACKOFF, retries=self.request.retries, maximum=RETRY_BACKOFF_MAX, full_jitter=True
        )
        logger.warning("make_renditions(%s) failed (%s); retry %s in %s s", image_id, exc,
                       self.request.retries + 1, countdown)
        raise self.retry(exc=exc, countdown=countdown) from exc
    if outcome.status == "failed":
        logger.warning("Image %s refused: %s", image_id, outcome.reason)
    return outcome.status


@shared_task(name="catalog.tasks.requeue_stale_images", acks_late=True, ignore_result=True, soft_time_limit=60,
             time_limit=90)
def requeue_stale_images(older_than_seconds: float | None = None) -> int:
    """Re-send the rendition job of images PENDING for more than 10 minutes (or `older_than_seconds`:
    0 when a worker starts, see shop.recovery). Returns how many."""
    kwargs = {} if older_than_seconds is None else {"older_than": timedelta(seconds=older_than_seconds)}
    count = services.requeue_stale_images(**kwargs)
    if count:
        logger.info("Re-sent %s stale image rendition jobs", count)
    return count
