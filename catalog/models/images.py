"""Product photographs and their renditions (resized, re-encoded copies), and the public URL of
a stored file."""
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from django.core.files.storage import storages
from django.db import models
from django.db.models import Q
from django.utils.functional import cached_property

from .catalogue import Product, Variant


def product_image_path(instance: "ProductImage", filename: str) -> str:
    """Upload path: products/<parent SKU>/<file name>."""
    return f"products/{instance.product.sku}/{filename}"


def media_url(name: str) -> str:
    """The public URL of the stored file `name` (default storage). Remembered per process when the
    storage's URLs depend on the name alone (the filesystem, or S3 without signed query strings):
    a listing of photos asks for ~170 rendition URLs, and rendition names hold a hash of their
    content, so a name's URL never changes."""
    storage = storages["default"]  # the storage itself: a new one (settings changed in tests) gets new URLs
    if getattr(storage, "querystring_auth", False):  # signed, expiring URLs: ask every time
        return storage.url(name)
    return _stable_url(storage, name)


@lru_cache(maxsize=65536)
def _stable_url(storage, name: str) -> str:
    return storage.url(name)


class ProductImageQuerySet(models.QuerySet):
    """Named reads of product images."""

    def needing_renditions(self) -> "ProductImageQuerySet":
        """Images whose renditions are not all made yet: pending or failed."""
        return self.exclude(status=ProductImage.Status.READY)

    def with_renditions(self) -> "ProductImageQuerySet":
        """Prefetch each image's renditions (one extra query for the whole queryset), ordered by
        format then width, which the rendition properties below rely on to avoid queries. Pages
        read images as lists and use attach_renditions instead, which costs less per rendition."""
        return self.prefetch_related(models.Prefetch(
            "renditions", queryset=Rendition.objects.order_by("format", "width").only(*Rendition.SHOWN_FIELDS)))


@dataclass(frozen=True, slots=True)
class RenditionFile:
    """What a page shows of a rendition (read by attach_renditions): `format` ("webp", "jpeg"),
    `width` and `height` in px, and `name`, the stored file's name."""

    format: str
    width: int
    height: int
    name: str

    @property
    def url(self) -> str:
        return media_url(self.name)


def attach_renditions(images: Iterable["ProductImage"]) -> list["ProductImage"]:
    """The images as a list, each with its renditions attached (`shown_renditions`, format then
    width, as RenditionFile values): one query for all of them, none without images. A card grid
    shows about 150 renditions; read as values they cost a fifth of what model rows cost (about 1
    of 5 ms a page, measured in-process)."""
    images = list(images)
    if not images:
        return images
    by_image: dict[int, list[RenditionFile]] = {image.pk: [] for image in images}
    rows = (Rendition.objects.filter(image_id__in=list(by_image)).order_by("image_id", "format", "width")
            .values_list("image_id", "format", "width", "height", "file"))
    for image_id, fmt, width, height, name in rows:
        by_image[image_id].append(RenditionFile(fmt, width, height, name))
    for image in images:
        image.shown_renditions = by_image[image.pk]
    return images


class ProductImage(models.Model):
    """A product photograph, in display order. `variant` links a colour-specific shot.

    The uploaded file (`image`) is kept as it came, for re-processing; pages are served its
    renditions (see Rendition), made by a Celery worker after the upload commits
    (catalog.services.save_product_image -> catalog.tasks.make_renditions). Until `status` is
    READY, `renditions` may be empty, `lqip` and `dominant_colour` blank.

    `width`/`height` (px) are the displayed size: read from the file on upload, then set by the
    worker to the size after EXIF orientation (the two differ only for rotated camera photos).
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    product = models.ForeignKey(Product, related_name="images", on_delete=models.CASCADE)
    variant = models.ForeignKey(Variant, related_name="images", null=True, blank=True, on_delete=models.SET_NULL)
    image = models.ImageField(upload_to=product_image_path, max_length=500, width_field="width", height_field="height")
    width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    alt_text = models.CharField(max_length=255, blank=True)
    position = models.PositiveIntegerField(default=0)
    source_path = models.CharField(
        max_length=500, blank=True, help_text="Where the importer found it; re-imports match on it."
    )
    # Rendition pipeline state (written by catalog.services only).
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True,
                              editable=False)
    failure_reason = models.TextField(blank=True, editable=False, help_text="Why the file was refused.")
    lqip = models.TextField(
        "placeholder", blank=True, editable=False,
        help_text="A blurred image about 20 px wide, as a data:image/webp;base64 URI (a few hundred bytes).",
    )
    dominant_colour = models.CharField(max_length=7, blank=True, editable=False, help_text='"#rrggbb"')
    content_hash = models.CharField(
        max_length=64, blank=True, editable=False, help_text="SHA-256 (hex) of the file the renditions come from."
    )
    attempts = models.PositiveSmallIntegerField(
        default=0, editable=False, help_text="Processing runs started for the current file."
    )
    enqueued_at = models.DateTimeField(null=True, blank=True, editable=False,
                                       help_text="When the last rendition job was sent.")
    processed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ProductImageQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "position", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["product", "source_path"],
                condition=~Q(source_path=""),
                name="product_image_unique_source",
            )
        ]

    def __str__(self) -> str:
        return self.alt_text or self.image.name

    @property
    def is_ready(self) -> bool:
        return self.status == self.Status.READY

    def _renditions(self, fmt: str) -> list["Rendition | RenditionFile"]:
        """This image's renditions in `fmt`, narrowest first: those attached by
        attach_renditions, else its `renditions` (no query when prefetched with
        ProductImageQuerySet.with_renditions, one otherwise)."""
        if not self.is_ready:
            return []
        shown = getattr(self, "shown_renditions", None)
        return [r for r in (self.renditions.all() if shown is None else shown) if r.format == fmt]

    @property
    def webp_renditions(self) -> list["Rendition"]:
        return self._renditions(Rendition.Format.WEBP)

    @property
    def jpeg_renditions(self) -> list["Rendition"]:
        return self._renditions(Rendition.Format.JPEG)

    @property
    def webp_srcset(self) -> str:
        """"url 320w, url 640w, ..." for a <source type="image/webp">, or "" when not ready."""
        return ", ".join(f"{r.url} {r.width}w" for r in self.webp_renditions)

    @property
    def jpeg_srcset(self) -> str:
        """"url 320w, url 640w, ..." for the <img> (JPEG), or "" when not ready."""
        return ", ".join(f"{r.url} {r.width}w" for r in self.jpeg_renditions)

    @property
    def src_url(self) -> str:
        """The <img src>: the widest JPEG rendition up to 1024 px, or the original's URL when the
        renditions are not ready."""
        jpegs = self.jpeg_renditions
        if jpegs:
            return ([r for r in jpegs if r.width <= 1024] or jpegs[:1])[-1].url
        return self.image.url if self.image else ""


class Rendition(models.Model):
    """One resized, re-encoded copy of a ProductImage: `width` x `height` px in `format`.

    The file name holds a hash of its content (renditions/<image id>/<stem>-<width>w.<hash>.<ext>),
    so it can be cached forever. Rows belong to the image's current file (`source_hash` is its
    SHA-256); replacing the file deletes them.
    """

    SHOWN_FIELDS = ("image", "format", "width", "height", "file")  # what a page or the API shows of one

    class Format(models.TextChoices):
        WEBP = "webp", "WebP"
        JPEG = "jpeg", "JPEG"

    image = models.ForeignKey(ProductImage, related_name="renditions", on_delete=models.CASCADE)
    format = models.CharField(max_length=8, choices=Format.choices)
    width = models.PositiveIntegerField(help_text="px")
    height = models.PositiveIntegerField(help_text="px")
    file = models.FileField(max_length=500)
    size = models.PositiveIntegerField(help_text="bytes")
    source_hash = models.CharField(max_length=64, help_text="SHA-256 (hex) of the original it was made from.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["image_id", "format", "width"]
        constraints = [
            models.UniqueConstraint(fields=["image", "format", "width"], name="rendition_unique_per_image")
        ]

    def __str__(self) -> str:
        return f"{self.width}w {self.format} of image {self.image_id}"

    @cached_property
    def url(self) -> str:
        """The file's public URL, worked out once per row: a card's picture asks for it up to
        three times (WebP and JPEG srcsets, the img src) and the storage's url() is not free."""
        return media_url(self.file.name)

    @property
    def content_type(self) -> str:
        return f"image/{self.format}"
