"""iShop project package. Importing it loads the Celery app so that tasks register."""
from .celery import app as celery_app

__all__ = ("celery_app",)
