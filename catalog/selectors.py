"""Catalogue reads for the storefront, each with a fixed number of queries whatever the page size."""
import hashlib
import logging
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import (
    Case, CharField, Exists, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When,
)
from django.db.models.functions import Coalesce, Least

from shop.urlcache import cached_reverse

from .models import Category, Product, ProductImage, Rendition, RenditionFile, Review, Variant, media_url
from .pagination import Follow, Key, KeysetPage, capped_count, keyset_page
from .tree import category_tree

logger = logging.getLogger(__name__)

# Size order used by the Luma catalogue; anything else (waist sizes "28", "32"...) sorts after it.
SIZE_ORDER = {size: index for index, size in enumerate(["XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"])}


def size_sort_key(size: str) -> tuple:
    """Sort sizes as a shopper expects: XS < S < M < L < XL, then numbers ascending, then text."""
    if size in SIZE_ORDER:
        return (0, SIZE_ORDER[size], "")
    if size.isdigit():
        return (1, int(size), "")
    return (2, 0, size)


def top_level_categories() -> list[Category]:
    """Visible categories at the top of the tree, in their display order (catalog.tree: no query
    while the tree is unchanged)."""
    return list(category_tree().top_level)


def primary_image_subquery(product_field: str = "pk") -> Subquery:
    """A subquery giving the storage path of a small picture of the first image of the product at
    `product_field`, for thumbnails (cart lines, the admin's product list): its narrowest JPEG
    rendition when the renditions are ready, the original while they are pending, and NULL when
    the worker refused the file (a refused original is never served) or there is no image."""
    narrowest_jpeg = (Rendition.objects.filter(image=OuterRef("pk"), format=Rendition.Format.JPEG)
                      .order_by("width").values("file")[:1])
    shown = Case(
        When(status=ProductImage.Status.READY, then=Coalesce(Subquery(narrowest_jpeg), F("image"))),
        When(status=ProductImage.Status.PENDING, then=F("image")),
        default=Value(None),
        output_field=CharField(),
    )
    return Subquery(
        ProductImage.objects.filter(product=OuterRef(product_field)).order_by("position", "pk")
        .annotate(shown=shown).values("shown")[:1]
    )


def primary_image_prefetch(to_attr: str = "primary_images") -> Prefetch:
    """Prefetch each product's first image (a list of at most one, at `to_attr`) with its
    renditions: two queries for the whole page, however many products it shows (the slice is
    done per product in SQL, with a window function)."""
    return Prefetch("images", queryset=ProductImage.objects.with_renditions().order_by("position", "pk")[:1],
                    to_attr=to_attr)


def product_cards(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Annotate what a product card shows, without a query per product.

    Adds `price_from` (lowest current selling price, Decimal), `regular_price_from` (lowest regular
    price), `stock_total` (units across active variants), `primary_images` (a list holding the
    first image, with its renditions, or nothing: two queries for the whole page) and
    `live_variants` (active variants' ids and stock, one extra query for the whole page), which
    the live stock script subscribes to.
    """
    active = Q(variants__is_active=True)
    return queryset.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.active().only("pk", "product_id", "stock"),
                 to_attr="live_variants"),
        primary_image_prefetch(),
    ).annotate(
        price_from=lowest_selling_price(),
        regular_price_from=Min("variants__price", filter=active),
        stock_total=Coalesce(Sum("variants__stock", filter=active), 0),
    )


SORTS = {
    "name": ("Name", ["name", "pk"]),
    "price": ("Price: low to high", ["price_from", "name", "pk"]),
    "-price": ("Price: high to low", [F("price_from").desc(), "name", "pk"]),
    "newest": ("Newest", ["-created_at", "-pk"]),
    "rating": ("Rating", [F("rating_average").desc(nulls_last=True), "-rating_count", "pk"]),
}
DEFAULT_SORT = "name"
RELEVANCE = "relevance"  # search pages: keep the order the search produced

# The same orders as keyset columns (catalog.pagination): each ends with the unique pk.
SORT_KEYS = {
    "name": [Key("name"), Key("pk", int)],
    "price": [Key("price_from", Decimal), Key("name"), Key("pk", int)],
    "-price": [Key("price_from", Decimal, desc=True), Key("name"), Key("pk", int)],
    "newest": [Key("created_at", datetime, desc=True), Key("pk", int, desc=True)],
    "rating": [Key("rating_average", Decimal, desc=True, nullable=True), Key("rating_count", int, desc=True),
               Key("pk", int)],
}
RELEVANCE_KEYS = [Key("relevance", float, desc=True), Key("name"), Key("pk", int)]  # catalog.search's order


def sort_products(queryset: QuerySet[Product], sort: str) -> QuerySet[Product]:
    """Order products by one of SORTS (unknown values fall back to DEFAULT_SORT). The price sorts
    annotate `price_from` when the queryset does not have it yet."""
    _, ordering = SORTS.get(sort, SORTS[DEFAULT_SORT])
    if sort in ("price", "-price") and "price_from" not in queryset.query.annotations:
        queryset = with_price_from(queryset)
    return queryset.order_by(*ordering)


def with_price_from(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Annotate `price_from`: the lowest current selling price of the active variants (Decimal)."""
    return queryset.annotate(price_from=lowest_selling_price())


def lowest_selling_price() -> Min:
    """The lowest current selling price (sale price when lower, else price) of a product's
    active variants, as an aggregate over `variants`."""
    return Min(Least(Coalesce("variants__sale_price", "variants__price"), "variants__price"),
               filter=Q(variants__is_active=True))


def sort_keys(sort: str) -> list[Key]:
    """The keyset columns of a listing sorted by `sort` (a SORTS key or RELEVANCE)."""
    if sort == RELEVANCE:
        return RELEVANCE_KEYS
    return SORT_KEYS.get(sort, SORT_KEYS[DEFAULT_SORT])


@dataclass(slots=True)
class ProductCard:
    """One product as a listing card shows it: plain values, cheaper to load and render than a
    Product with annotations. Prices are Decimals in settings.SHOP_CURRENCY (None when the product
    has no active variant left); `stock_total` is units across active variants; `variant_ids` the
    active variants' ids as "12,13" (the live stock script subscribes to them); `image` its first
    ProductImage, renditions prefetched, or None."""

    pk: int
    name: str
    url: str
    rating_average: Decimal | None
    rating_count: int
    price_from: Decimal | None = None
    regular_price_from: Decimal | None = None
    stock_total: int = 0
    variant_ids: str = ""
    image: ProductImage | None = None

    @property
    def on_sale(self) -> bool:
        """An active variant sells below the lowest regular price."""
        return self.price_from is not None and self.price_from < self.regular_price_from


CARD_FIELDS = ("name", "slug", "rating_average", "rating_count")  # what load_cards needs of each product


def load_cards(rows: list[dict], details: list[tuple] | None = None) -> list[ProductCard]:
    """Cards for products given as rows ({"pk", *CARD_FIELDS}, in display order), with the
    products' active variants (prices and stock are summed here, not in SQL), their first images
    and those images' renditions: `details`, CARD_DETAILS rows already read with the page
    (product_cards_page), or read here in one query (none for an empty list). Fixed SQL run on a
    cursor: building it with the ORM cost several times what running it does, on every listing
    page."""
    if not rows:
        return []
    ids = [row["pk"] for row in rows]
    product_url = cached_reverse("catalog:product", kwargs={"slug": "-"})[:-2]  # slugs need no quoting
    cards = {row["pk"]: ProductCard(pk=row["pk"], name=row["name"], url=f"{product_url}{row['slug']}/",
                                    rating_average=row["rating_average"], rating_count=row["rating_count"])
             for row in rows}
    if details is None:
        placeholders = ", ".join(["%s"] * len(ids))
        details = _rows(CARD_DETAILS.format(in_ids=f"IN ({placeholders})") + " ORDER BY 1, 2, 3, 4",
                        [*ids, ProductImage.Status.READY.value, *ids])
    variants: dict[int, list[tuple]] = {}
    images: dict[int, ProductImage] = {}
    for kind, product_id, _, pk, price, sale, stock, *row in details:
        if product_id not in cards:  # read with the page: the row beyond it
            continue
        if kind == 0:
            variants.setdefault(product_id, []).append((pk, price, sale, stock))
            continue
        _add_image_row(images, row)
    for product_id, found in variants.items():
        card = cards[product_id]
        prices = [(_money(price), None if sale is None else _money(sale)) for _, price, sale, _ in found]
        card.price_from = min(price if sale is None or sale >= price else sale for price, sale in prices)
        card.regular_price_from = min(price for price, _ in prices)
        card.stock_total = sum(stock for *_, stock in found)
        card.variant_ids = ",".join(str(pk) for pk, *_ in found)
    for image in images.values():
        cards[image.product_id].image = image
    return [cards[pk] for pk in ids]


CENT = Decimal("0.01")


def _money(value) -> Decimal:
    """A price column read on a cursor as a Decimal (SQLite gives a float or an int)."""
    return value if isinstance(value, Decimal) else Decimal(str(value)).quantize(CENT)


def _columns(model, fields: tuple[str, ...]) -> list[str]:
    """`fields` of `model` in its concrete fields' order, as Model.from_db() wants them."""
    return [field.attname for field in model._meta.concrete_fields if field.attname in fields]


def _select(alias: str, columns: list[str]) -> str:
    """"p.id, p.name" for alias "p" and columns ["id", "name"]."""
    return ", ".join(f"{alias}.{column}" for column in columns)


def _nulls(count: int) -> str:
    """ "NULL, NULL, ..." (`count` of them): the other part's columns in a UNION ALL of two kinds of row."""
    return ", ".join(["NULL"] * count)


def _rows(sql: str, params: list) -> list[tuple]:
    """The rows of `sql` run with `params`. Pass plain values (Status.READY.value, not the enum
    member): psycopg finds the adapter of a str subclass by walking its classes, on every call."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


CARD_IMAGE_FIELDS = ("id", "product_id", "image", "width", "height", "alt_text", "position", "status", "lqip",
                     "dominant_colour")  # what {% picture %} reads of an image (cards and the gallery)
IMAGE_COLUMNS = _columns(ProductImage, CARD_IMAGE_FIELDS)


def _add_image_row(images: dict[int, ProductImage], row) -> None:
    """Add one row of IMAGE_COLUMNS followed by a rendition's format, width, height and file (NULLs
    when the image is not ready) to `images` ({id: ProductImage}, in the order first seen): the
    ready images get their `rendition_files`, RenditionFiles with their remembered URLs."""
    image = images.get(row[0])  # IMAGE_COLUMNS starts with the image's id
    if image is None:
        image = images[row[0]] = ProductImage.from_db(connection.alias, IMAGE_COLUMNS, row[:len(IMAGE_COLUMNS)])
        if image.is_ready:
            image.rendition_files = []
    rendition_format, width, height, name = row[len(IMAGE_COLUMNS):]
    if rendition_format is not None:
        image.rendition_files.append(RenditionFile(rendition_format, width, height, media_url(name)))


# What load_cards reads, in one query: rows of kind 0 are active variants, rows of kind 1 a
# product's first image (the lowest position, then id: no earlier image exists), once per rendition
# when it is ready; sorted by columns 1-4, variants come in display order. Its columns: kind,
# product_id, position, id, price, sale_price, stock, IMAGE_COLUMNS, then the rendition's format,
# width, height and file. {in_ids} says which products: "IN (%s, ...)" with their ids as parameters,
# or a subquery; the parameter between them is Status.READY.
CARD_DETAILS = (
    f"SELECT 0, product_id, position, id, price, sale_price, stock, {_nulls(len(IMAGE_COLUMNS) + 4)}"
    f" FROM {Variant._meta.db_table} WHERE is_active AND product_id {{in_ids}}"
    f" UNION ALL SELECT 1, i.product_id, i.position, i.id, NULL, NULL, NULL, {_select('i', IMAGE_COLUMNS)},"
    f" r.format, r.width, r.height, r.file FROM {ProductImage._meta.db_table} i"
    f" LEFT JOIN {Rendition._meta.db_table} r ON r.image_id = i.id AND i.status = %s"
    f" WHERE i.product_id {{in_ids}} AND NOT EXISTS (SELECT 1 FROM {ProductImage._meta.db_table} e"
    " WHERE e.product_id = i.product_id AND (e.position < i.position OR (e.position = i.position AND e.id < i.id)))")
# The same rows for the products of a keyset page, read in the page's own statement. PostgreSQL is
# given the page's ids as an array (an InitPlan), so that it looks them up in the product_id index
# instead of hashing the page and scanning every variant, as it does for IN (SELECT ...).
CARD_DETAILS_OF_PAGE = {
    vendor: Follow(sql=CARD_DETAILS.format(in_ids=in_ids), params=(ProductImage.Status.READY.value,),
                   width=7 + len(IMAGE_COLUMNS) + 4, order=(1, 2, 3, 4))
    for vendor, in_ids in (("postgresql", "= ANY(ARRAY(SELECT pk FROM page))"), ("other", "IN (SELECT pk FROM page)"))}


def product_cards_page(queryset: QuerySet[Product], sort: str, *, size: int, after: str = "", before: str = "",
                       last: bool = False, count: Callable[[QuerySet], int] = capped_count,
                       shape: Hashable | None = None) -> KeysetPage:
    """One keyset page (catalog.pagination) of a filtered, sorted listing, as ProductCards.

    One statement, whose cost does not grow with the listing: the page's rows (primary keys and
    the cards' plain columns) are picked from `queryset` alone (an index scan from the cursor),
    and only those products' variants and images are read beside them (CARD_DETAILS_OF_PAGE).
    Queries: 1, and the capped count when `count` asks for it (e.g.
    ListingFacts.count, which answers from the cache while it can). `shape` names what `queryset`'s SQL
    depends on, to compile the page's query once per process (catalog.pagination.keyset_page)."""
    ids, page = keyset_page(queryset, sort_keys(sort), size=size, after=after, before=before, last=last,
                            fields=CARD_FIELDS, count=count, shape=shape,
                            follow=CARD_DETAILS_OF_PAGE["postgresql" if connection.vendor == "postgresql" else "other"])
    page.items = load_cards([page.rows[pk] for pk in ids], page.followed)
    return page


@dataclass(frozen=True)
class Facets:
    """Filter values present among a set of products: sizes in shop order, colours A-Z."""

    sizes: list[str]
    colours: list[str]


def facets_for(products: QuerySet[Product]) -> Facets:
    """The sizes and colours of the active variants of `products` (two queries)."""
    # No ordering: Variant's default one would add its columns to the DISTINCT and read every row.
    variants = Variant.objects.filter(is_active=True, product__in=products.values("pk")).order_by()
    sizes = set(variants.exclude(size="").values_list("size", flat=True).distinct())
    colours = set(variants.exclude(colour="").values_list("colour", flat=True).distinct())
    return Facets(sizes=sorted(sizes, key=size_sort_key), colours=sorted(colours))


class ListingFacts:
    """What a listing shows beside its page of cards, cached: the facets (sizes and colours on
    offer) and the result count, read in one cache round trip.

    Reading every variant of a large listing (facets) and counting its rows (up to COUNT_CAP + 1)
    on every page view would make a page's cost grow with the listing. So:
    - the facets of `key` are kept for SHOP_FACETS_CACHE_SECONDS (a stale facet only offers a
      filter that finds nothing);
    - the count of `key` with the filters `filters` (a canonical string of the shopper's filter
      parameters) is kept only while the versions at `version_keys` stand (catalog.pagecache: a
      category's version moves with every stock, price or catalogue change the listing could
      show), so a count is never stale. Without version keys (search) it is counted each time.
    Without a key, with SHOP_FACETS_CACHE_SECONDS = 0 or with the cache down, both are computed
    (facets: two queries; count: one). `also` names other cache keys to read in the same round
    trip (e.g. the category tree's versions); their values are in `found`."""

    def __init__(self, key: str | None, *, filters: str = "", version_keys: list[str] = (), also: list[str] = ()):
        from . import pagecache

        self._found: dict = {}
        self._versions: list | None = None
        self._store: dict = {}
        if not key or settings.SHOP_FACETS_CACHE_SECONDS <= 0:
            self._facets_key = self._count_key = None
            return
        digest = lambda text: hashlib.sha256(text.encode()).hexdigest()[:32]  # noqa: E731
        self._facets_key = f"{pagecache.catalog_facets_prefix()}:{digest(key)}"
        self._count_key = f"{pagecache.catalog_facets_prefix()}:count:{digest(key + '?' + filters)}" \
            if version_keys else None
        self._version_keys = list(version_keys)
        try:
            self._found = pagecache.get_many([self._facets_key, *([self._count_key] if self._count_key else []),
                                              *self._version_keys, *also])
        except Exception:
            logger.exception("Cache unavailable; computing listing facets and count")
            self._facets_key = self._count_key = None
            return
        if self._count_key:
            self._versions = [self._found.get(k) for k in self._version_keys]

    @property
    def found(self) -> dict:
        """What the cache read found, by key (including the keys asked for with `also`)."""
        return self._found

    def facets(self, products: QuerySet[Product]) -> Facets:
        """The sizes and colours of the active variants of `products`."""
        found = self._found.get(self._facets_key) if self._facets_key else None
        if found is None:
            found = facets_for(products)
            if self._facets_key:
                self._store[self._facets_key] = (found, settings.SHOP_FACETS_CACHE_SECONDS)
        return found

    def count(self, queryset: QuerySet[Product]) -> int:
        """How many products `queryset` (the filtered listing) holds, capped at COUNT_CAP + 1."""
        if self._versions is not None and None in self._versions:  # first use: made here, not for any URL's path
            from . import pagecache

            self._versions = pagecache.current_versions(self._version_keys)
        entry = self._found.get(self._count_key) if self._count_key else None
        if entry is not None and self._versions is not None and entry[0] == self._versions:
            return entry[1]
        count = capped_count(queryset)
        if self._count_key and self._versions is not None:  # versions read before counting: race-safe
            self._store[self._count_key] = ((self._versions, count), settings.SHOP_FACETS_CACHE_SECONDS)
        return count

    def save(self) -> None:
        """Store what was computed. Never raises: a cache outage only costs the next page a query."""
        try:
            for key, (value, seconds) in self._store.items():
                cache.set(key, value, timeout=seconds)
        except Exception:
            logger.exception("Could not cache listing facets or count")
        self._store = {}


def breadcrumbs(category: Category) -> list[Category]:
    """The category and its ancestors, top first (catalog.tree: no query while the tree is
    unchanged)."""
    return category_tree().breadcrumbs(category)


def new_arrivals(limit: int = 8) -> list[ProductCard]:
    """The most recently added visible products, as cards (load_cards)."""
    return load_cards(list(Product.objects.visible().order_by("-created_at", "-pk").values("pk", *CARD_FIELDS)[:limit]))


def products_on_sale(limit: int = 8) -> list[ProductCard]:
    """Visible products with a variant on sale, as cards (load_cards)."""
    return load_cards(list(Product.objects.visible().on_sale().order_by("name", "pk").values("pk", *CARD_FIELDS)[:limit]))


def product_detail(slug: str, *, include_hidden: bool = False) -> Product:
    """A visible product (any product with `include_hidden`, for staff) with its active variants
    (in size order), images (with their renditions), categories and the latest approved reviews
    prefetched. Raises Product.DoesNotExist."""
    return (
        (Product.objects.all() if include_hidden else Product.objects.visible())
        .prefetch_related(
            Prefetch("variants", queryset=Variant.objects.active().order_by("position", "pk")),
            Prefetch("images", queryset=ProductImage.objects.with_renditions().order_by("position", "pk")),
            Prefetch("categories", queryset=Category.objects.order_by("-depth", "path")),
            Prefetch("reviews", queryset=Review.objects.approved().order_by("-is_featured", "-created_at", "-pk")[:50],
                     to_attr="approved_reviews"),
        )
        .get(slug=slug)
    )


def product_page(slug: str) -> Product:
    """A visible product for its storefront page, with what the page shows beside its fields:
    `active_variants` (in size order), `category_ids` (catalog.tree gives the breadcrumbs),
    `gallery` (its images in display order, with their renditions) and `approved_reviews` (the
    latest 50 at most, featured first, as dicts of what the page prints: `rating` as text, `title`,
    `body`, `reviewer_name`, `is_featured`, `is_verified_buyer`). Only the columns the page shows
    are read. Raises Product.DoesNotExist, also when no variant is active.

    Queries: 1 or 2, fixed SQL on a cursor (the ORM took several times longer to build them than
    PostgreSQL to run them): PRODUCT_PAGE_SQL (the product joined to its active variants and its
    categories, a row per variant and category, then its images joined to their renditions), and
    its reviews unless its `rating_count` (kept in step with the approved reviews by
    catalog.services) says it has none."""
    rows = _rows(PRODUCT_PAGE_SQL, [slug, ProductImage.Status.READY.value, slug])
    images_from = next((index for index, row in enumerate(rows) if row[0] == 1), len(rows))  # kind 1 rows
    rows, image_rows = [row[1:_IMAGE_AT - 1] for row in rows[:images_from]], rows[images_from:]
    if not rows:  # hidden, missing, or without an active variant (Product.objects.visible()'s rule)
        raise Product.DoesNotExist(f"No visible product {slug!r}")
    gallery: dict[int, ProductImage] = {}
    for row in image_rows:
        _add_image_row(gallery, row[_IMAGE_AT:])
    alias, split = connection.alias, len(PAGE_PRODUCT_COLUMNS)
    product = Product.from_db(alias, PAGE_PRODUCT_COLUMNS, rows[0][:split])
    product.attributes = Product._meta.get_field("attributes").from_db_value(product.attributes, None, connection)
    product.rating_average = None if product.rating_average is None else _money(product.rating_average)  # 2 places
    variants: dict[int, Variant] = {}
    category_ids: set[int] = set()
    for row in rows:
        if row[split] not in variants:
            variant = variants[row[split]] = Variant.from_db(alias, PAGE_VARIANT_COLUMNS, row[split:-1])
            variant.price = _money(variant.price)
            variant.sale_price = None if variant.sale_price is None else _money(variant.sale_price)
        if row[-1] is not None:
            category_ids.add(row[-1])
    product.active_variants = list(variants.values())
    product.category_ids = list(category_ids)
    product.gallery = list(gallery.values())
    product.approved_reviews = _reviews(product.pk) if product.rating_count else []
    return product


# What product_page reads (the page's columns only) and its SQL, worked out once.
PAGE_PRODUCT_COLUMNS = _columns(Product, ("id", "name", "slug", "description", "short_description", "attributes",
                                          "seo_title", "seo_description", "rating_average", "rating_count"))
PAGE_VARIANT_COLUMNS = _columns(Variant, ("id", "product_id", "sku", "size", "colour", "price", "sale_price",
                                          "stock", "low_stock_threshold", "is_active"))
# One query in two parts (UNION ALL), each row as wide as both: rows of kind 0 are
# [0, PAGE_PRODUCT_COLUMNS, PAGE_VARIANT_COLUMNS, category_id, variant position, NULLs...] (a visible
# product's active variants in display order, once per category), then rows of kind 1 are
# [1, NULLs..., IMAGE_COLUMNS, rendition format, width, height, file] (its images in display order,
# once per rendition when ready). Parameters: the slug, Status.READY, the slug.
_IMAGE_AT = 1 + len(PAGE_PRODUCT_COLUMNS) + len(PAGE_VARIANT_COLUMNS) + 2  # where kind 1's columns start
PRODUCT_PAGE_SQL = (
    f"SELECT 0, {_select('p', PAGE_PRODUCT_COLUMNS)}, {_select('v', PAGE_VARIANT_COLUMNS)}, c.category_id,"
    f" v.position, {_nulls(len(IMAGE_COLUMNS) + 4)}"
    f" FROM {Product._meta.db_table} p JOIN {Variant._meta.db_table} v ON v.product_id = p.id AND v.is_active"
    f" LEFT JOIN {Product.categories.through._meta.db_table} c ON c.product_id = p.id"
    " WHERE p.slug = %s AND p.is_visible"
    f" UNION ALL SELECT 1, {_nulls(_IMAGE_AT - 1)}, {_select('i', IMAGE_COLUMNS)},"
    f" r.format, r.width, r.height, r.file FROM {ProductImage._meta.db_table} i LEFT JOIN {Rendition._meta.db_table} r"
    f" ON r.image_id = i.id AND i.status = %s"
    f" WHERE i.product_id = (SELECT id FROM {Product._meta.db_table} WHERE slug = %s)"
    # kind; variant position and id; image position and id; rendition format and width (1-based)
    f" ORDER BY 1, {_IMAGE_AT}, {2 + len(PAGE_PRODUCT_COLUMNS)},"
    f" {_IMAGE_AT + 1 + IMAGE_COLUMNS.index('position')}, {_IMAGE_AT + 1}, {_IMAGE_AT + 1 + len(IMAGE_COLUMNS)},"
    f" {_IMAGE_AT + 2 + len(IMAGE_COLUMNS)}")


REVIEWS_SQL = (
    f"SELECT rating, title, body, reviewer_name, is_featured, is_verified_buyer FROM {Review._meta.db_table}"
    " WHERE product_id = %s AND status = %s"
    " ORDER BY is_featured DESC, created_at DESC, id DESC LIMIT 50")


def _reviews(product_id: int) -> list[dict]:
    """A product's approved reviews as product_page shows them (one query)."""
    rows = _rows(REVIEWS_SQL, [product_id, Review.Status.APPROVED.value])
    return [{"rating": str(rating), "title": title, "body": body, "reviewer_name": reviewer_name,
             "is_featured": is_featured, "is_verified_buyer": is_verified_buyer}
            for rating, title, body, reviewer_name, is_featured, is_verified_buyer in rows]


@dataclass(frozen=True)
class VariantPicker:
    """A product's variants arranged for choosing, worked out once for the page: `sizes` and
    `colours` on offer (shop order); `grid`, one row per colour: (colour, [badge or None for each
    size]), a badge being what the availability table shows of a variant (_stock_badge); `only`,
    the badge of the variant a product without options sells (else None); the lowest current and
    regular prices (Decimals, None without variants); whether any variant is in stock."""

    variants: list[Variant]
    sizes: list[str]
    colours: list[str]
    grid: list[tuple[str, list[dict | None]]]
    only: dict | None
    price_from: Decimal | None
    regular_price_from: Decimal | None
    in_stock: bool

    @property
    def has_options(self) -> bool:
        return bool(self.sizes or self.colours)

    @property
    def on_sale(self) -> bool:
        return self.price_from is not None and self.price_from < self.regular_price_from

    def as_json(self) -> list[dict]:
        """What the product page script needs to follow the shopper's choice."""
        return [{"id": v.pk, "size": v.size, "colour": v.colour, "sku": v.sku, "stock": v.stock,
                 "low_stock": v.low_stock_threshold,
                 "price": str(v.unit_price), "regular_price": str(v.price)} for v in self.variants]


def variant_picker(variants: list[Variant]) -> VariantPicker:
    """Arrange already-loaded variants for the product page (no queries)."""
    sizes = sorted({v.size for v in variants if v.size}, key=size_sort_key)
    colours = sorted({v.colour for v in variants if v.colour})
    by_options = {(v.size, v.colour): _stock_badge(v) for v in variants}
    grid = [(colour, [by_options.get((size, colour)) for size in sizes or [""]])
            for colour in colours or [""]]
    return VariantPicker(
        variants=variants, sizes=sizes, colours=colours, grid=grid,
        only=None if sizes or colours or not variants else _stock_badge(variants[0]),
        price_from=min((v.unit_price for v in variants), default=None),
        regular_price_from=min((v.price for v in variants), default=None),
        in_stock=any(v.in_stock for v in variants))


def _stock_badge(variant: Variant) -> dict:
    """A variant's stock badge, as text to print: `id`, `sku`, `low_stock` (the threshold
    inventory.js applies to live updates), `state` ("in" or "out" of stock) and `label` ("In
    stock", "Only 3 left" at or below the threshold, "Sold out"). A dict of strings: templates
    look names up as keys first, and localize numbers, which costs more than printing them."""
    if not variant.in_stock:
        label = "Sold out"
    elif variant.stock <= variant.low_stock_threshold:
        label = f"Only {variant.stock} left"
    else:
        label = "In stock"
    return {"id": str(variant.pk), "sku": variant.sku, "low_stock": str(variant.low_stock_threshold),
            "state": "in" if variant.in_stock else "out", "label": label}


def matching_variant_exists(**variant_filters) -> Exists:
    """An Exists() over active variants of the outer product that match `variant_filters`."""
    return Exists(
        Variant.objects.active().with_effective_price().filter(product=OuterRef("pk")).filter(**variant_filters)
    )


class VariantChoiceError(LookupError):
    """The shopper's choice names no buyable variant; the message says what to choose."""


def choose_variant(*, product_id: int, variant_id: int | None = None, size: str = "", colour: str = "") -> Variant:
    """The active variant of a visible product picked by id, or by size and colour.

    Raises VariantChoiceError ("Please choose a size.", "... is not available in M / Gray.").
    """
    variants = list(Variant.objects.active().select_related("product")
                    .filter(product_id=product_id, product__is_visible=True))
    if not variants:
        raise VariantChoiceError("That product is not available.")
    if variant_id is not None:
        for variant in variants:
            if variant.pk == variant_id:
                return variant
        raise VariantChoiceError("That option is not available.")
    if len(variants) == 1 and not variants[0].options:
        return variants[0]
    missing = [label for label, values, chosen in (("size", {v.size for v in variants} - {""}, size),
                                                  ("colour", {v.colour for v in variants} - {""}, colour))
               if values and not chosen]
    if missing:
        raise VariantChoiceError(f"Please choose a {' and a '.join(missing)}.")
    for variant in variants:
        if variant.size == size and variant.colour == colour:
            return variant
    raise VariantChoiceError(
        f"{variants[0].product.name} is not available in {' / '.join(v for v in (size, colour) if v)}.")
