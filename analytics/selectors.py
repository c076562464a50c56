"""Reads for the staff pages."""
from django.db.models import F, QuerySet, Sum

from catalog.models import Variant
from orders.models import Order


def recent_orders(limit: int = 20) -> QuerySet[Order]:
    """The newest orders with their unit counts (one query)."""
    return Order.objects.annotate(units=Sum("lines__quantity")).order_by("-created_at", "-pk")[:limit]


def low_stock_variants(limit: int = 50) -> QuerySet[Variant]:
    """Active variants at or below their low-stock threshold, emptiest first (one query)."""
    return (Variant.objects.active().filter(stock__lte=F("low_stock_threshold"))
            .select_related("product").order_by("stock", "sku")[:limit])
