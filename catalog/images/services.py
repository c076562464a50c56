"""Product image writes: upload checks, storing a file, rendition jobs and processing. The only
place that changes an image's pipeline state (status, renditions, LQIP, dominant colour).

Every path that stores a product image file (the admin's inline, import_catalog, the API) ends
here: `save_product_image` for one image, `product_images_saved` for rows a bulk writer created.
Both leave the image PENDING and send a `catalog.tasks.make_renditions` job (catalog.images.tasks)
after the transaction commits; the worker calls `process_product_image`. Nothing resizes an image
in a request.
"""
import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.text import slugify

from catalog import images
from catalog.models import ProductImage, Rendition

logger = logging.getLogger(__name__)

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
