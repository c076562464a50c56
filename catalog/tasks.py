"""The catalogue's Celery tasks, where Celery's autodiscovery looks for them (`<app>.tasks`).

They live in their rooms (catalog.images.tasks) and keep their names, `catalog.tasks.<name>`.
"""
from .images.tasks import make_renditions, requeue_stale_images

__all__ = ["make_renditions", "requeue_stale_images"]
