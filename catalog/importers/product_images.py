"""The catalogue import's product images: files from the images folder or http(s) URLs (fetched by
catalog.images.safe_fetch), checked like an upload, stored, and sent to the rendition pipeline.
"""
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import DatabaseError

from catalog.images import InvalidImage
from catalog.images.safe_fetch import FetchRefused, fetch_image
from catalog.images.services import product_images_saved, validate_image_upload
from catalog.models import Product, ProductImage, Variant

from .plans import ExistingRows, ProductPlan, ProductResult, VariantPlan
from .reading import Record, RowError, update_fields

@dataclass
class _ImagePlan:
    path: str  # as written in the CSV, relative to the images folder
    record: Record  # the first row naming it: errors are reported on its line
    variant: VariantPlan | None  # the first child naming it, base images before additional ones


def _image_plans(plan: ProductPlan) -> list[_ImagePlan]:
    """A product's images, each path once, in order: the product's base image, its additional
    images, each child's base image, then each child's additional images."""
    children = [variant for variant in plan.variants if variant.offer.record is not plan.record]
    sources = [(plan.record, "base_image", None), (plan.record, "additional_images", None)]
    sources += [(child.offer.record, "base_image", child) for child in children]
    sources += [(child.offer.record, "additional_images", child) for child in children]
    images: dict[str, _ImagePlan] = {}
    for record, column, child in sources:
        for path in filter(None, (path.strip() for path in record.get(column).split(","))):
            image = images.setdefault(path, _ImagePlan(path=path, record=record, variant=child))
            image.variant = image.variant or child
    return list(images.values())


def save_images(
    plan: ProductPlan,
    *,
    product: Product,
    variants: dict[str, Variant],
    existing: ExistingRows,
    images_dir: Path,
    result: ProductResult,
) -> None:
    """Copy new image files into storage; update the order, alt text and variant of known ones."""
    to_create, to_update, position = [], [], 0
    for planned in _image_plans(plan):
        record, child = planned.record, planned.variant
        variant = variants[child.offer.sku] if child else None  # saved: bulk_create set its pk
        label = record.get("base_image_label") if planned.path == record.get("base_image") else ""
        alt_text = label or (f"{product.name} - {child.colour}" if child and child.colour else product.name)
        values = {
            "variant_id": variant.pk if variant else None,
            "alt_text": alt_text[:255],
            "position": position,
        }
        image = existing.images.get((product.pk, planned.path))
        if image is None:
            try:
                image = _copy_image(planned.path, images_dir=images_dir, product=product, values=values)
            except RowError as exc:
                result.errors.append((record.line, f"{record.sku}: {exc}"))
                continue
            to_create.append(image)
        elif update_fields(image, values):
            to_update.append(image)
        else:
            result.images.skipped += 1
        position += 1
    try:
        ProductImage.objects.bulk_create(to_create)
        ProductImage.objects.bulk_update(to_update, ["variant_id", "alt_text", "position"])
    except DatabaseError:
        for image in to_create:  # the rows roll back: leave no orphaned files
            image.image.delete(save=False)
        raise
    product_images_saved(image_ids=[image.pk for image in to_create])  # rendition jobs, after commit
    existing.images.update({(product.pk, image.source_path): image for image in to_create})
    result.images.created += len(to_create)
    result.images.updated += len(to_update)


def _fetch_remote_image(url: str) -> ContentFile:
    """An image column holding an http(s) URL: fetched through the same guarded fetcher as the
    image proxy (allowlisted hosts, no private addresses, byte cap, total timeout)."""
    try:
        fetched = fetch_image(url, max_bytes=settings.SHOP_IMAGE_MAX_BYTES, timeout=settings.SHOP_IMAGE_FETCH_TIMEOUT,
                              allowed_hosts=settings.SHOP_IMAGE_PROXY_ALLOWED_HOSTS)
    except FetchRefused as exc:
        raise RowError(f"image {url} not fetched: {exc.reason}") from None
    name = Path(urlsplit(fetched.final_url).path).name or "image"
    return ContentFile(fetched.content, name=name)


def _copy_image(source_path: str, *, images_dir: Path, product: Product, values: dict) -> ProductImage:
    """Store the file at `source_path` (relative to `images_dir`, or an http(s) URL) through the
    ImageField, after the same checks as an upload."""
    if source_path.startswith(("http://", "https://")):
        upload = _fetch_remote_image(source_path)
        image = ProductImage(product=product, source_path=source_path[:500], **values)
        try:
            validate_image_upload(upload=upload)
        except InvalidImage as exc:
            raise RowError(f"{source_path}: {exc.reason}") from None
        image.image.save(upload.name, upload, save=False)
        return image
    root = images_dir.resolve()
    file_path = (root / source_path.lstrip("/")).resolve()
    if not file_path.is_relative_to(root):
        raise RowError(f"image path {source_path} is outside the images folder")
    if not file_path.is_file():
        raise RowError(f"image file not found: {source_path}")
    image = ProductImage(product=product, source_path=source_path, **values)
    with open(file_path, "rb") as handle:
        try:  # hostile until proven otherwise, like an upload: size, format, bombs, polyglots
            validate_image_upload(upload=File(handle))
        except InvalidImage as exc:
            raise RowError(f"{source_path}: {exc.reason}") from None
        image.image.save(file_path.name, File(handle), save=False)
    if not image.width:
        image.image.delete(save=False)
        raise RowError(f"not a readable image: {source_path}")
    return image
