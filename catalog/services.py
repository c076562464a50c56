"""Catalogue writes: stock movements, the live stock broadcast, rating upkeep, and product
images (upload checks, rendition jobs and processing). The only place that changes them.

Callers that take stock for several variants must lock them first, in primary-key order
(`lock_variants`), so that concurrent checkouts cannot deadlock (the pattern of Saleor's
warehouse/management.py and django-oscar's OrderCreator).
"""
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Avg, Count, F, Q
from django.dispatch import Signal
from django.utils import timezone
from django.utils.text import slugify

from . import images, listing_cache, pagecache, realtime
from .models import Product, ProductImage, Rendition, Review, Variant

logger = logging.getLogger(__name__)

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
    pagecache.invalidate_products_on_commit(product_ids=[variant.product_id])  # price, sale price, name...
    return variant


def broadcast_stock(*, variant_ids: Iterable[int]) -> None:
    """Push the current stock of these variants to every open page, after the transaction commits.

    The one place every stock change is announced (orders, cancellations, admin edits, imports,
    the API). The cached pages showing these variants are dropped first (catalog.pagecache). Each
    variant's subscribers get a `stock` message; staff also get `low_stock` for a
    variant at or below its `low_stock_threshold`. If the channel layer is down the write still
    stands and the failure is logged (see realtime.send_group_messages).
    """
    ids = sorted(set(variant_ids))
    if ids:
        pagecache.invalidate_products_on_commit(variant_ids=ids)  # before the push: a reload shows it
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
    changed = reviews.update(**REVIEW_ACTIONS[action])
    refresh_product_rating(product_ids=product_ids)
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


# --- Product images: upload, rendition jobs, processing --------------------------------------
#
# Every path that stores a product image file (the admin's inline, import_catalog, the API)
# ends here: `save_product_image` for one image, `product_images_saved` for rows a bulk writer
# created. Both leave the image PENDING and send a `catalog.tasks.make_renditions` job after
# the transaction commits; the worker calls `process_product_image`. Nothing resizes an image
# in a request.

RENDITIONS_DIR = "renditions"
MAX_PROCESSING_ATTEMPTS = 5  # runs started for one file before it is marked failed
STALE_PENDING_AFTER = timedelta(minutes=10)
REQUEUE_BATCH = 500  # images re-sent per periodic run at most


@dataclass(frozen=True)
class ImageOutcome:
    """What `process_product_image` did to one image: `status` is "processed" (renditions made),
    "skipped" (everything already there, or nothing to do), "failed" (the file was refused;
    `reason` says why) or "missing" (no such image). `made` counts new rendition files."""

    image_id: int
    status: str
    reason: str = ""
    made: int = 0
    name: str = ""


def validate_image_upload(*, upload: File) -> images.ImageInfo:
    """Check an uploaded file before it is stored: at most settings.SHOP_IMAGE_MAX_BYTES bytes,
    JPEG/PNG/WebP/GIF by its magic bytes, no polyglot, not truncated, at most 40 MP.
    Returns its format and size; raises images.InvalidImage naming the reason."""
    max_bytes = settings.SHOP_IMAGE_MAX_BYTES
    if upload.size is not None and upload.size > max_bytes:
        raise images.InvalidImage(
            f"The file is {upload.size / 1048576:.1f} MB; the largest accepted is {max_bytes / 1048576:.1f} MB."
        )
    upload.seek(0)
    data = upload.read(max_bytes + 1)
    upload.seek(0)
    return images.check_image(data, max_bytes=max_bytes)


def save_product_image(*, image: ProductImage, upload: File | None = None) -> ProductImage:
    """Save a product image row (new or edited: admin, API). With `upload`, the file is
    validated (raises images.InvalidImage with the reason) and stored as the image's new file.

    When the file is new or replaced, the image becomes PENDING, its old renditions are
    deleted, and a rendition job is sent after commit. Editing only alt text, position or
    variant keeps the renditions.
    """
    if upload is not None:
        validate_image_upload(upload=upload)  # before the transaction: it decodes the file
        image.image = upload
    file_changed = image.pk is None or upload is not None or not getattr(image.image, "_committed", True)
    with transaction.atomic():
        if file_changed:
            _reset_pipeline_state(image)
            old = list(Rendition.objects.filter(image_id=image.pk)) if image.pk else []
            image.save()
            _delete_renditions(old)
            _enqueue_renditions([image.pk])
        else:
            image.save()
    return image


def product_images_saved(*, image_ids: Iterable[int]) -> None:
    """Hook for writers that create image rows in bulk (import_catalog): mark the images
    PENDING and send their rendition jobs after commit. Call inside the writing transaction."""
    ids = sorted(set(image_ids))
    if ids:
        ProductImage.objects.filter(pk__in=ids).update(
            status=ProductImage.Status.PENDING, failure_reason="", attempts=0, enqueued_at=timezone.now()
        )
        _send_after_commit(ids)


def reprocess_product_images(*, image_ids: Iterable[int], force: bool = False) -> int:
    """Send rendition jobs again (the admin's "re-make renditions" action). Failed images get
    another try; with `force`, existing renditions are deleted and everything is made again.
    Returns the number of images queued."""
    ids = sorted(set(image_ids))
    with transaction.atomic():
        chosen = ProductImage.objects.filter(pk__in=ids)
        if force:
            _delete_renditions(list(Rendition.objects.filter(image_id__in=ids)))
            chosen.update(status=ProductImage.Status.PENDING, failure_reason="", attempts=0, content_hash="")
        else:
            chosen.exclude(status=ProductImage.Status.READY).update(
                status=ProductImage.Status.PENDING, failure_reason="", attempts=0
            )
        _enqueue_renditions(ids)
    return len(ids)


def requeue_stale_images(*, older_than: timedelta = STALE_PENDING_AFTER, limit: int = REQUEUE_BATCH) -> int:
    """Send the rendition job again for images PENDING whose last job was sent more than
    `older_than` ago (or never): a lost broker message or a worker that died. At most `limit`
    images per call; returns how many were re-sent."""
    cutoff = timezone.now() - older_than
    with transaction.atomic():
        ids = list(
            ProductImage.objects.filter(status=ProductImage.Status.PENDING)
            .filter(Q(enqueued_at__lt=cutoff) | Q(enqueued_at__isnull=True))
            .order_by("pk")
            .values_list("pk", flat=True)[:limit]
        )
        _enqueue_renditions(ids)
    return len(ids)


def _reset_pipeline_state(image: ProductImage) -> None:
    image.status = ProductImage.Status.PENDING
    image.failure_reason = ""
    image.lqip = ""
    image.dominant_colour = ""
    image.content_hash = ""
    image.attempts = 0
    image.processed_at = None
    image.enqueued_at = timezone.now()


def _enqueue_renditions(image_ids: list[int]) -> None:
    """Stamp `enqueued_at` now and send one make_renditions job per image after commit. If the
    broker is down the failure is logged and the images stay PENDING; the periodic
    requeue_stale_images sends them again."""
    if image_ids:
        ProductImage.objects.filter(pk__in=image_ids).update(enqueued_at=timezone.now())
        _send_after_commit(image_ids)


def _send_after_commit(image_ids: list[int]) -> None:
    def send() -> None:
        from .tasks import make_renditions  # tasks import this module

        for image_id in image_ids:
            make_renditions.delay(image_id)

    transaction.on_commit(send, robust=True)


def _delete_renditions(renditions: list[Rendition]) -> None:
    """Delete rendition rows now and their files after commit (a failed file delete is logged)."""
    if not renditions:
        return
    names = [rendition.file.name for rendition in renditions]
    Rendition.objects.filter(pk__in=[rendition.pk for rendition in renditions]).delete()
    transaction.on_commit(lambda: _delete_files(names), robust=True)


def _delete_files(names: Iterable[str]) -> None:
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:  # storage trouble must not undo the database change
            logger.exception("Could not delete rendition file %s", name)


def rendition_name(*, image_id: int, original: str, encoded: images.Encoded) -> str:
    """Storage name of a rendition of image `image_id` whose file is `original`:
    renditions/<image id>/<original's stem>-<width>w.<content hash>.<ext>."""
    stem = slugify(PurePosixPath(original).stem)[:60] or "image"
    return f"{RENDITIONS_DIR}/{image_id}/{stem}-{encoded.width}w.{encoded.digest}.{encoded.format}"


def mark_image_failed(*, image_id: int, reason: str) -> None:
    """Record that an image cannot be processed, with the reason shown in the admin."""
    ProductImage.objects.filter(pk=image_id).update(
        status=ProductImage.Status.FAILED, failure_reason=reason[:2000], processed_at=timezone.now()
    )


def process_product_image(*, image_id: int, check_storage: bool = False) -> ImageOutcome:
    """Make whatever renditions, placeholder and dominant colour image `image_id` is missing.

    Idempotent: a rendition already recorded for the same file content is not made again (with
    `check_storage`, only if its file is also still in storage), and an image that is READY
    with every rendition returns "skipped" without reading its file. A file refused by
    catalog.images marks the image FAILED with the reason and returns "failed".
    Storage and database errors propagate (the Celery task retries them).
    """
    # Plain values, not a model instance: Django's ImageField reads the file to fill in missing
    # dimensions when an instance is made, and this function must be the one that reads it.
    row = ProductImage.objects.filter(pk=image_id).values("image", "width", "status", "lqip", "attempts").first()
    if row is None:
        return ImageOutcome(image_id, "missing", reason="no such image")
    name = row["image"]
    existing = {(r.width, r.format): r for r in Rendition.objects.filter(image_id=image_id)}
    if not check_storage and row["status"] == ProductImage.Status.READY and row["width"] and row["lqip"]:
        planned = {(w, f) for w in images.rendition_widths(row["width"]) for f in images.RENDITION_FORMATS}
        if planned <= set(existing):
            return ImageOutcome(image_id, "skipped", name=name)
    if row["attempts"] >= MAX_PROCESSING_ATTEMPTS:
        reason = (f"Processing was started {row['attempts']} times without finishing (the worker timed "
                  "out or died each time). Re-make renditions from the admin to try again.")
        mark_image_failed(image_id=image_id, reason=reason)
        return ImageOutcome(image_id, "failed", reason=reason, name=name)
    storage = ProductImage._meta.get_field("image").storage
    max_bytes = settings.SHOP_IMAGE_MAX_BYTES
    if not name or not storage.exists(name):
        reason = f"The original file {name or '(none)'} is missing from storage."
        mark_image_failed(image_id=image_id, reason=reason)
        return ImageOutcome(image_id, "failed", reason=reason, name=name)
    with storage.open(name, "rb") as handle:
        data = handle.read(max_bytes + 1)
    content_hash = hashlib.sha256(data).hexdigest()
    keep = {key: r for key, r in existing.items() if r.source_hash == content_hash}
    if check_storage:
        keep = {key: r for key, r in keep.items() if default_storage.exists(r.file.name)}
    # Counted just before the decode, where a hostile file could exhaust the time limit or memory.
    ProductImage.objects.filter(pk=image_id).update(attempts=F("attempts") + 1)
    try:
        rendered = images.render(data, max_bytes=max_bytes, skip=set(keep))
    except images.InvalidImage as exc:
        mark_image_failed(image_id=image_id, reason=exc.reason)
        return ImageOutcome(image_id, "failed", reason=exc.reason, name=name)

    new_rows = []
    for encoded in rendered.renditions:
        file_name = rendition_name(image_id=image_id, original=name, encoded=encoded)
        if not default_storage.exists(file_name):  # same name, same bytes: already written
            file_name = default_storage.save(file_name, ContentFile(encoded.data))
        new_rows.append(Rendition(image_id=image_id, format=encoded.format, width=encoded.width,
                                  height=encoded.height, file=file_name, size=len(encoded.data),
                                  source_hash=content_hash))
    with transaction.atomic():
        current = ProductImage.objects.select_for_update().filter(pk=image_id).values_list("image", flat=True)
        if list(current) != [name]:
            # Deleted or given a new file meanwhile; the new file has its own job.
            return ImageOutcome(image_id, "skipped", reason="the image changed while it was processed", name=name)
        kept_ids = [r.pk for r in keep.values()]
        new_names = {row.file.name for row in new_rows}
        stale = [r for r in Rendition.objects.filter(image_id=image_id).exclude(pk__in=kept_ids)]
        Rendition.objects.filter(pk__in=[r.pk for r in stale]).delete()
        stale_names = [r.file.name for r in stale if r.file.name not in new_names]
        if stale_names:
            transaction.on_commit(lambda: _delete_files(stale_names), robust=True)
        Rendition.objects.bulk_create(new_rows)
        ProductImage.objects.filter(pk=image_id).update(
            status=ProductImage.Status.READY, failure_reason="", lqip=rendered.lqip,
            dominant_colour=rendered.dominant_colour, content_hash=content_hash, width=rendered.width,
            height=rendered.height, processed_at=timezone.now(), attempts=0,
        )
    return ImageOutcome(image_id, "processed" if new_rows else "skipped", made=len(new_rows), name=name)
