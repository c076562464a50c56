"""Catalogue: a category tree, products, their variants (the things with a SKU and stock),
product images and reviews.

Money is `Decimal` in `settings.SHOP_CURRENCY`. Stock is a whole number of units that the
database itself keeps at zero or above.
"""
from decimal import Decimal
from functools import lru_cache
from typing import NamedTuple

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.core.files.storage import default_storage
from django.db import models
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.utils.functional import cached_property, empty

from shop.urlcache import cached_reverse
from shop.sources import SOURCE_MAX_LENGTH, Source


class Category(models.Model):
    """A node of the category tree. `path` is the slash-joined slugs from the top ("men/tops")."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200)
    parent = models.ForeignKey("self", null=True, blank=True, related_name="children", on_delete=models.CASCADE)
    path = models.CharField(max_length=1000, unique=True, help_text="Slugs from the top, joined by '/'.")
    depth = models.PositiveSmallIntegerField(default=1, help_text="1 for a top-level category.")
    position = models.PositiveIntegerField(default=0, help_text="Order among siblings.")
    description = models.TextField(blank=True)
    is_visible = models.BooleanField(default=True)

    class Meta:
        verbose_name_plural = "categories"
        ordering = ["path"]
        constraints = [models.UniqueConstraint(fields=["parent", "slug"], name="category_unique_slug_per_parent")]

    def __str__(self) -> str:
        return self.path

    def get_absolute_url(self) -> str:
        return cached_reverse("catalog:category", kwargs={"path": self.path})

    def ancestor_paths(self) -> list[str]:
        """Paths of this category and every ancestor, top first: "a/b" -> ["a", "a/b"]."""
        parts = self.path.split("/")
        return ["/".join(parts[: i + 1]) for i in range(len(parts))]


class ProductQuerySet(models.QuerySet):
    """Named reads of products."""

    def visible(self) -> "ProductQuerySet":
        """Products a shopper may see: flagged visible, with at least one active variant."""
        return self.filter(Exists(Variant.objects.filter(product=OuterRef("pk"), is_active=True)), is_visible=True)

    def in_category(self, category: "Category") -> "ProductQuerySet":
        """Products in `category` or any category below it."""
        in_tree = Product.categories.through.objects.filter(product=OuterRef("pk")).filter(
            Q(category__path=category.path) | Q(category__path__startswith=category.path + "/")
        )
        return self.filter(Exists(in_tree))

    def on_sale(self) -> "ProductQuerySet":
        """Products with an active variant whose sale price is below its regular price."""
        return self.filter(
            Exists(
                Variant.objects.filter(
                    product=OuterRef("pk"), is_active=True, sale_price__isnull=False, sale_price__lt=F("price")
                )
            )
        )


class Product(models.Model):
    """What a shopper browses: a name, a description and one or more variants to buy."""

    sku = models.CharField(
        "parent SKU", max_length=64, unique=True, help_text="The catalogue's own key (Magento parent SKU)."
    )
    name = models.CharField(max_length=255)
    slug = models.SlugField(max_length=255, unique=True)
    description = models.TextField(blank=True, help_text="Sanitised HTML.")
    short_description = models.TextField(blank=True, help_text="Sanitised HTML.")
    attributes = models.JSONField(default=dict, blank=True, help_text='e.g. {"material": ["Wool"]}')
    seo_title = models.CharField(max_length=255, blank=True)
    seo_description = models.TextField(blank=True)
    is_visible = models.BooleanField(default=True, db_index=True)
    source = models.CharField(max_length=SOURCE_MAX_LENGTH, choices=Source.choices, default=Source.WEB,
                              db_default=Source.WEB, db_index=True, help_text="Live catalogue or imported history.")
    categories = models.ManyToManyField(Category, related_name="products", blank=True)
    # Kept in step by catalog.services.refresh_product_rating, never computed per row on listings.
    rating_average = models.DecimalField(max_digits=3, decimal_places=2, null=True, blank=True)
    rating_count = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProductQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        indexes = [
            # Keyset pages of the listing sorts (catalog.selectors.SORT_KEYS): an index scan starts at
            # the cursor, so page 1000 of 100,000 products costs what page 1 costs.
            models.Index(fields=["name", "id"], name="product_listing_name"),
            models.Index(fields=["created_at", "id"], name="product_listing_newest"),
            # The rating sort's index is PostgreSQL-only (migration 0004).
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return cached_reverse("catalog:product", kwargs={"slug": self.slug})

    @property
    def meta_title(self) -> str:
        return self.seo_title or self.name


class VariantQuerySet(models.QuerySet):
    """Named reads of variants."""

    def active(self) -> "VariantQuerySet":
        return self.filter(is_active=True)

    def in_stock(self) -> "VariantQuerySet":
        return self.filter(is_active=True, stock__gt=0)

    def with_effective_price(self) -> "VariantQuerySet":
        """Annotate `effective_price`: the sale price when set, else the regular price."""
        return self.annotate(effective_price=Coalesce("sale_price", "price"))


class Variant(models.Model):
    """A buyable SKU of a product: one size and colour, with its own price and stock."""

    product = models.ForeignKey(Product, related_name="variants", on_delete=models.CASCADE)
    sku = models.CharField("SKU", max_length=64, unique=True)
    name = models.CharField(max_length=255, blank=True)
    size = models.CharField(max_length=32, blank=True, db_index=True)
    colour = models.CharField(max_length=32, blank=True, db_index=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0"))])
    sale_price = models.DecimalField(
        max_digits=10, decimal_places=2, null=True, blank=True, validators=[MinValueValidator(Decimal("0"))]
    )
    stock = models.IntegerField(default=0, help_text="Units on hand that can still be sold.")
    low_stock_threshold = models.PositiveIntegerField(default=5)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)

    objects = VariantQuerySet.as_manager()

    class Meta:
        ordering = ["product_id", "position", "pk"]
        constraints = [
            # The last line of defence against overselling: the database refuses negative stock.
            models.CheckConstraint(condition=Q(stock__gte=0), name="variant_stock_non_negative"),
            models.CheckConstraint(condition=Q(price__gte=0), name="variant_price_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.sku} ({self.product.name})" if self.product_id else self.sku

    @property
    def unit_price(self) -> Decimal:
        """What one unit sells for now: the sale price when set and lower, else the price."""
        if self.sale_price is not None and self.sale_price < self.price:
            return self.sale_price
        return self.price

    @property
    def is_on_sale(self) -> bool:
        return self.unit_price < self.price

    @property
    def in_stock(self) -> bool:
        return self.is_active and self.stock > 0

    @property
    def options_label(self) -> str:
        """"M / Gray", or "" for a product without options."""
        return " / ".join(value for value in (self.size, self.colour) if value)

    @property
    def options(self) -> dict[str, str]:
        return {key: value for key, value in (("size", self.size), ("colour", self.colour)) if value}


def product_image_path(instance: "ProductImage", filename: str) -> str:
    """Upload path: products/<parent SKU>/<file name>."""
    return f"products/{instance.product.sku}/{filename}"


def media_url(name: str) -> str:
    """The public URL of the stored file `name` (default storage). Remembered per process when the
    storage's URLs depend on the name alone (the filesystem, or S3 without signed query strings):
    a listing of photos asks for ~170 rendition URLs, and rendition names hold a hash of their
    content, so a name's URL never changes."""
    if default_storage._wrapped is empty:
        default_storage._setup()
    storage = default_storage._wrapped  # the storage itself: a new one (tests) gets new URLs
    if getattr(storage, "querystring_auth", False):  # signed, expiring URLs: ask every time
        return storage.url(name)
    return _stable_url(storage, name)


@lru_cache(maxsize=65536)
def _stable_url(storage, name: str) -> str:
    return storage.url(name)


class RenditionFile(NamedTuple):
    """A rendition as pages and the API show it, without a model instance (catalog.selectors loads
    these for listing cards and the product gallery): its format, size in px and public URL."""

    format: str
    width: int
    height: int
    url: str


class ProductImageQuerySet(models.QuerySet):
    """Named reads of product images."""

    def needing_renditions(self) -> "ProductImageQuerySet":
        """Images whose renditions are not all made yet: pending or failed."""
        return self.exclude(status=ProductImage.Status.READY)

    def with_renditions(self) -> "ProductImageQuerySet":
        """Prefetch each image's renditions (one extra query for the whole queryset), ordered by
        format then width, which the rendition properties below rely on to avoid queries."""
        return self.prefetch_related(
            models.Prefetch("renditions", queryset=Rendition.objects.order_by("format", "width"))
        )


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
        """This image's renditions in `fmt`, narrowest first: its `rendition_files` when loaded
        (catalog.selectors: cards and the gallery), else its renditions (no query when prefetched)."""
        if not self.is_ready:
            return []
        files = self.__dict__.get("rendition_files")
        return sorted((r for r in (self.renditions.all() if files is None else files) if r.format == fmt),
                      key=lambda r: r.width)

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


class ReviewQuerySet(models.QuerySet):
    def approved(self) -> "ReviewQuerySet":
        return self.filter(status=Review.Status.APPROVED)


class Review(models.Model):
    """A shopper's rating (1-5) and words about a product. Only approved reviews count."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        APPROVED = "approved", "Approved"
        REJECTED = "rejected", "Rejected"

    product = models.ForeignKey(Product, related_name="reviews", on_delete=models.CASCADE)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, related_name="reviews", null=True, blank=True, on_delete=models.SET_NULL
    )
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=255)
    body = models.TextField()
    reviewer_name = models.CharField(max_length=100)
    email = models.EmailField(blank=True)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING, db_index=True)
    is_featured = models.BooleanField("featured", default=False, help_text="Shown first on the product page.")
    is_verified_buyer = models.BooleanField(
        "verified buyer", default=False,
        help_text="The reviewer has a delivered order line for this product (kept by catalog.services).")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
            models.UniqueConstraint(
                fields=["product", "reviewer_name", "title"], name="review_unique_per_reviewer_title"
            ),
            # A customer reviews a product once (imported reviews have no user).
            models.UniqueConstraint(fields=["product", "user"], condition=Q(user__isnull=False),
                                    name="review_one_per_customer"),
        ]

    def __str__(self) -> str:
        return f"{self.rating}/5 {self.title}"
