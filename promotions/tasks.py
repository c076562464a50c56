"""Celery tasks of the promotions app."""
from celery import shared_task

from . import sales


@shared_task(ignore_result=True)
def apply_promotions() -> int:
    """Write the running catalogue promotions onto the variants (promotions.sales.apply_promotions):
    beat, every PROMOTIONS_REFRESH_SECONDS, starts the promotions whose time has come. Returns how
    many variants changed."""
    return sales.apply_promotions()
