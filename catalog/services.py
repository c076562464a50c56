"""Catalogue writes: stock movements, the live stock broadcast, rating upkeep and reviews. The only
place that changes them. Product image writes live in their room, catalog.images.services; their
public functions are importable from here too, as before the catalogue was split into rooms.

Callers that take stock for several variants must lock them first, in primary-key order
(`lock_variants`), so that concurrent checkouts cannot deadlock (the pattern of Saleor's
warehouse/management.py and django-oscar's OrderCreator).
"""
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F
from django.dispatch import Signal

from webhooks import events as webhook_events

from . import listing_cache, versions
from .images.services import (ImageOutcome, mark_image_failed, process_product_image,  # noqa: F401
                              product_images_saved, rendition_name, reprocess_product_images,
                              requeue_stale_images, save_product_image, validate_image_upload)
from .live import realtime
from .models import Product, Review, Variant

# Sent after commit with `variant_ids` (a sorted list) whenever broadcast_stock announces a stock
# change; accounts listens to email customers whose wishlisted variant is back in stock.
stock_changed = Signal()


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
    versions.invalidate_products_on_commit(product_ids=[variant.product_id])  # price, sale price, name...
    return variant


def broadcast_stock(*, variant_ids: Iterable[int]) -> None:
    """Push the current stock of these variants to every open page, after the transaction commits.

    The one place every stock change is announced (orders, cancellations, admin edits, imports,
    the API). The cached pages showing these variants are dropped first (catalog.versions). Each
    variant's subscribers get a `stock` message; staff also get `low_stock` for a
    variant at or below its `low_stock_threshold`. If the channel layer is down the write still
    stands and the failure is logged (see realtime.send_group_messages).
    """
    ids = sorted(set(variant_ids))
    if ids:
        webhook_events.stock_events(variant_ids=ids)  # stock.changed / stock.low (issue 28), in this transaction
        versions.invalidate_products_on_commit(variant_ids=ids)  # before the push: a reload shows it
        transaction.on_commit(lambda: _send_stock(ids), robust=True)
        transaction.on_commit(lambda: stock_changed.send_robust(sender=Variant, variant_ids=ids), robust=True)
        listing_cache.bump()  # issue 5: cached API listings show stock (bumped again after commit)


def _send_stock(variant_ids: list[int]) -> None:
    listing_cache.bump()
    messages = []
    rows = Variant.objects.filter(pk__in=variant_ids).values_list(
        "pk", "product_id", "sku", "stock", "is_active", "low_stock_threshold", "product__name",
        "product__is_visible")
    for pk, product_id, sku, stock, is_active, threshold, product_name, visible in rows:
        payload = realtime.stock_payload(variant_id=pk, product_id=product_id, sku=sku, stock=stock,
                                         is_active=is_active)
        if visible:  # hidden products' stock is for staff only
            messages.append((realtime.stock_group(pk), payload))
        if is_active and visible and stock <= threshold:  # sellable catalogue only, never the hidden history
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


# --- Reviews: written by customers, moderated by staff ------------------------------------------

class ReviewError(Exception):
    """A review the shop refuses (a second review of the same product...); the message is safe to show."""


def submit_review(*, product: Product, user, rating: int, title: str, body: str,
                  verified_buyer: bool = False) -> Review:
    """Save a customer's review of `product` as pending (it counts once staff approve it).

    `rating` is a whole number 1-5; `verified_buyer` says the customer has a delivered order line
    for the product (the caller asks orders). Raises ReviewError when the customer already
    reviewed the product, or another review of it has the same reviewer name and title.
    """
    if not 1 <= int(rating) <= 5:
        raise ReviewError("Choose a rating from 1 to 5 stars.")
    if Review.objects.filter(product=product, user=user).exists():
        raise ReviewError("You have already reviewed this product.")
    try:
        with transaction.atomic():
            return Review.objects.create(
                product=product, user=user, rating=rating, title=title.strip(), body=body.strip(),
                reviewer_name=(user.get_short_name() or user.email.split("@")[0])[:100], email=user.email,
                is_verified_buyer=verified_buyer)
    except IntegrityError:
        raise ReviewError("You have already reviewed this product, or a review with this title exists: "
                          "choose another title.") from None


REVIEW_ACTIONS = {
    "approve": {"status": Review.Status.APPROVED},
    "reject": {"status": Review.Status.REJECTED, "is_featured": False},
    "feature": {"status": Review.Status.APPROVED, "is_featured": True},
    "unfeature": {"is_featured": False},
}


@transaction.atomic
def moderate_reviews(*, review_ids: Iterable[int], action: str) -> int:
    """Apply a staff decision to reviews: "approve", "reject", "feature" (approves too) or
    "unfeature"; then refresh the affected products' rating. Returns how many reviews changed.
    Raises ValueError for an unknown action."""
    if action not in REVIEW_ACTIONS:
        raise ValueError(f"unknown review action {action!r}")
    reviews = Review.objects.filter(pk__in=list(review_ids))
    product_ids = set(reviews.values_list("product_id", flat=True))
    approving = REVIEW_ACTIONS[action].get("status") == Review.Status.APPROVED
    newly_approved = list(reviews.exclude(status=Review.Status.APPROVED).values_list("pk", flat=True)) if approving else []
    changed = reviews.update(**REVIEW_ACTIONS[action])
    refresh_product_rating(product_ids=product_ids)
    webhook_events.reviews_approved(review_ids=newly_approved)  # review.approved (issue 28)
    return changed


def delete_reviews(*, review_ids: Iterable[int]) -> int:
    """Delete reviews (staff), then refresh the affected products' rating, so that no product
    keeps counting a review that is gone. Returns how many were deleted."""
    reviews = Review.objects.filter(pk__in=list(review_ids))
    product_ids = set(reviews.values_list("product_id", flat=True))
    deleted, _ = reviews.delete()
    refresh_product_rating(product_ids=product_ids)
    return deleted


def mark_verified_buyer(*, user_id: int, product_ids: Iterable[int], verified: bool = True) -> int:
    """Mark `user_id`'s reviews of these products as by a verified buyer, or (verified=False) no
    longer. Orders calls this when an order is delivered, or refunded with no other delivered
    line of the product left. Returns how many reviews changed."""
    return Review.objects.filter(user_id=user_id, product_id__in=set(product_ids),
                                 is_verified_buyer=not verified).update(is_verified_buyer=verified)
