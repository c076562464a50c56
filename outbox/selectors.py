"""Reads of the outbox for operators: counts per kind and status."""
from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Min, Q

from .models import Message


@dataclass(frozen=True)
class KindCounts:
    """Messages of one kind by status; `oldest_pending` is the creation time of the oldest pending
    one (None when none is pending)."""

    kind: str
    pending: int
    sent: int
    failed: int
    oldest_pending: datetime | None


def counts_by_kind() -> list[KindCounts]:
    """One KindCounts per kind that has messages, sorted by kind (one query)."""
    rows = (Message.objects.order_by().values("kind")
            .annotate(pending=Count("pk", filter=Q(status=Message.Status.PENDING)),
                      sent=Count("pk", filter=Q(status=Message.Status.SENT)),
                      failed=Count("pk", filter=Q(status=Message.Status.FAILED)),
                      oldest_pending=Min("created_at", filter=Q(status=Message.Status.PENDING)))
            .order_by("kind"))
    return [KindCounts(**row) for row in rows]
