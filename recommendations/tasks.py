"""Celery tasks of the recommendations app."""
from celery import shared_task

from . import services


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=2000)
def build_recommendations() -> int:
    """Recompute the stored recommendations (beat, nightly). Returns how many were stored."""
    report = services.build()
    return report.similar + report.also_bought
