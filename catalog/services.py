"""Catalogue writes: stock movements, the live stock broadcast, and rating upkeep. The only
place that changes them.

Callers that take stock for several variants must lock them first, in primary-key order
(`lock_variants`), so that concurrent checkouts cannot deadlock (the pattern of Saleor's
warehouse/management.py and django-oscar's OrderCreator).
"""
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import Avg, Count, F

from . import realtime
from .models import Product, Review, Variant


class InsufficientStock(Exception):
    """A variant has fewer units than asked for. Carries what was asked and what is left."""

    def __init__(self, *, variant: Variant, requested: int, available: int):
        self.variant = variant
        self.requested = requested
        self.available = available
        name = f"{variant.product.name} ({variant.options_label})" if variant.options_label else variant.product.name
        if available <= 0:
            message = f"{name} is sold out."
        else:
            message = f"Only {available} of {name} left in stock; you asked for {requested}."
        super().__init__(message)


def lock_variants(variant_ids: Iterable[int]) -> dict[int, Variant]:
    """Lock the given variants for this transaction, in primary-key order, and return them by id.

    Must run inside `transaction.atomic()`. Unknown ids are simply absent from the result.
    """
    return {
        variant.pk: variant
        for variant in Variant.objects.select_for_update(of=("self",))
        .select_related("product")
        .filter(pk__in=set(variant_ids))
        .order_by("pk")
    }


def allocate_stock(*, variant: Variant, quantity: int) -> None:
    """Take `quantity` units (> 0) from a variant's stock.

    Raises InsufficientStock if fewer units are left or the variant is inactive. The conditional
    UPDATE makes this safe even without a lock; the CHECK (stock >= 0) constraint backs it up.
    Updates `variant.stock` in memory to the new value.
    """
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    taken = Variant.objects.filter(pk=variant.pk, is_active=True, stock__gte=quantity).update(
        stock=F("stock") - quantity
    )
    if not taken:
        variant.refresh_from_db(fields=["stock", "is_active"])
        raise InsufficientStock(
            variant=variant, requested=quantity, available=variant.stock if variant.is_active else 0
        )
    variant.stock -= quantity


def release_stock(*, variant: Variant, quantity: int) -> None:
    """Give `quantity` units (> 0) back to a variant's stock (a cancelled or refunded line)."""
    if quantity <= 0:
        raise ValueError(f"quantity must be positive, got {quantity}")
    Variant.objects.filter(pk=variant.pk).update(stock=F("stock") + quantity)
    variant.stock += quantity


@transaction.atomic
def set_stock(*, variant: Variant, stock: int) -> Variant:
    """Set a variant's stock on hand to `stock` units (>= 0) and broadcast it after commit.
    Raises ValueError when negative."""
    if stock < 0:
        raise ValueError(f"stock cannot be negative, got {stock}")
    Variant.objects.filter(pk=variant.pk).update(stock=stock)
    variant.stock = stock
    broadcast_stock(variant_ids=[variant.pk])
    return variant


@transaction.atomic
def adjust_stock(*, variant: Variant, delta: int) -> Variant:
    """Add `delta` units (negative to remove) to a variant's stock and broadcast it after commit.
    Raises InsufficientStock when the result would be below zero."""
    if delta < 0:
        allocate_stock(variant=variant, quantity=-delta)
    elif delta > 0:
        release_stock(variant=variant, quantity=delta)
    variant.refresh_from_db(fields=["stock"])
    broadcast_stock(variant_ids=[variant.pk])
    return variant


@transaction.atomic
def save_variant(*, variant: Variant, changed_fields: Iterable[str]) -> Variant:
    """Save a variant edited as a whole (the admin's forms); broadcast when its stock or
    availability changed."""
    variant.save()
    if {"stock", "is_active"} & set(changed_fields):
        broadcast_stock(variant_ids=[variant.pk])
    return variant


def broadcast_stock(*, variant_ids: Iterable[int]) -> None:
    """Push the current stock of these variants to every open page, after the transaction commits.

    The one place every stock change is announced (orders, cancellations, admin edits, imports,
    the API). Each variant's subscribers get a `stock` message; staff also get `low_stock` for a
    variant at or below its `low_stock_threshold`. If the channel layer is down the write still
    stands and the failure is logged (see realtime.send_group_messages).
    """
    ids = sorted(set(variant_ids))
    if ids:
        transaction.on_commit(lambda: _send_stock(ids), robust=True)


def _send_stock(variant_ids: list[int]) -> None:
    messages = []
    rows = Variant.objects.filter(pk__in=variant_ids).values_list(
        "pk", "product_id", "sku", "stock", "is_active", "low_stock_threshold", "product__name",
        "product__is_visible")
    for pk, product_id, sku, stock, is_active, threshold, product_name, visible in rows:
        payload = realtime.stock_payload(variant_id=pk, product_id=product_id, sku=sku, stock=stock,
                                         is_active=is_active)
        if visible:  # hidden products' stock is for staff only
            messages.append((realtime.stock_group(pk), payload))
        if is_active and stock <= threshold:
            messages.append((realtime.STAFF_GROUP, {**payload, "type": "low_stock", "threshold": threshold,
                                                     "product_name": product_name}))
    realtime.send_group_messages(messages)


def refresh_product_rating(*, product_ids: Iterable[int]) -> None:
    """Recompute `rating_average` (2 decimals, half up) and `rating_count` from approved reviews."""
    product_ids = set(product_ids)
    stats = {
        row["product_id"]: row
        for row in Review.objects.approved()
        .filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(average=Avg("rating"), count=Count("pk"))
    }
    products = list(Product.objects.filter(pk__in=product_ids).only("pk"))
    for product in products:
        row = stats.get(product.pk)
        product.rating_count = row["count"] if row else 0
        product.rating_average = (
            Decimal(str(row["average"])).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) if row else None
        )
    Product.objects.bulk_update(products, ["rating_average", "rating_count"])
