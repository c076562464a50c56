"""Reads of the webhooks for operators: deliveries per endpoint and status."""
from dataclasses import dataclass

from django.db.models import Count, Min, Q

from .models import Delivery, Endpoint


@dataclass(frozen=True)
class EndpointCounts:
    """One endpoint's deliveries: pending, succeeded and failed, and when the oldest pending one was created."""

    url: str
    active: bool
    pending: int
    succeeded: int
    failed: int
    oldest_pending: object  # datetime or None


def counts_by_endpoint() -> list[EndpointCounts]:
    """Every endpoint with its delivery counts per status (one query)."""
    rows = Endpoint.objects.order_by("pk").annotate(
        pending=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.PENDING)),
        succeeded=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.SUCCEEDED)),
        failed=Count("deliveries", filter=Q(deliveries__status=Delivery.Status.FAILED)),
        oldest_pending=Min("deliveries__created_at", filter=Q(deliveries__status=Delivery.Status.PENDING)))
    return [EndpointCounts(row.url, row.is_active and row.disabled_at is None, row.pending, row.succeeded,
                           row.failed, row.oldest_pending) for row in rows]
