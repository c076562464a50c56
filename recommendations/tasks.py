"""Celery tasks of the recommendations app."""
from celery import shared_task

from . import services


@shared_task(ignore_result=True, soft_time_limit=1800, time_limit=2000)
def build_recommendations() -> int:
    """Recompute the stored recommendations (beat, nightly). Returns how many were stored."""
    report = services.build()
    return report.similar + report.also_bought


@shared_task(ignore_result=True, soft_time_limit=600, time_limit=660)
def update_recommendations(seconds: float) -> int:
    """The incremental update (beat, every RECOMMENDATIONS_UPDATE_SECONDS with `seconds` twice that,
    so that a late run misses nothing): "also bought" for the products sold in the last `seconds`.
    Returns how many rows were stored."""
    return services.update_also_bought(services.recently_sold(seconds))
