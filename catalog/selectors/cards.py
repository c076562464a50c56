"""Product cards: what a listing shows of each product, read through the ORM, for the storefront
pages and the API alike (product_cards), and keyset pages of them (product_cards_page)."""
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache

from django.db.models import Case, CharField, F, Min, OuterRef, Prefetch, Q, QuerySet, Subquery, Sum, Value, When
from django.db.models.functions import Coalesce

from ..models import Product, ProductImage, Rendition, Variant, attach_renditions, selling_price
from ..pagination import Key, KeysetPage, capped_count, keyset_page

IMAGE_ORDER = ("position", "pk")  # a product's images in display order; the first is its card's


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
        ProductImage.objects.filter(product=OuterRef(product_field)).order_by(*IMAGE_ORDER)
        .annotate(shown=shown).values("shown")[:1]
    )


def primary_image_prefetch(to_attr: str = "primary_images") -> Prefetch:
    """Prefetch each product's first image (a list of at most one, at `to_attr`) with its
    renditions: two queries for the whole page, however many products it shows (the slice is
    done per product in SQL, with a window function)."""
    return Prefetch("images", queryset=ProductImage.objects.with_renditions().order_by(*IMAGE_ORDER)[:1],
                    to_attr=to_attr)


def lowest_selling_price() -> Min:
    """The lowest current selling price (catalog.models.selling_price) of a product's active
    variants, as an aggregate over `variants` (Decimal, None without an active variant)."""
    return Min(selling_price("variants__"), filter=Q(variants__is_active=True))


def card_aggregates() -> dict:
    """The aggregates a product card shows, over the product's active variants: `price_from`
    (lowest current selling price, Decimal), `regular_price_from` (lowest regular price) and
    `stock_total` (units, 0 without an active variant)."""
    active = Q(variants__is_active=True)
    return {"price_from": lowest_selling_price(), "regular_price_from": Min("variants__price", filter=active),
            "stock_total": Coalesce(Sum("variants__stock", filter=active), 0)}


def product_cards(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Annotate what a product card shows, without a query per product (the API's listing).

    Adds card_aggregates(), `primary_images` (a list holding the first image, with its
    renditions, or nothing: two queries for the whole page) and `live_variants` (active variants'
    ids and stock in display order, one extra query for the whole page), which the live stock
    script subscribes to.
    """
    return queryset.prefetch_related(
        Prefetch("variants", queryset=Variant.objects.active().only("pk", "product_id", "stock"),
                 to_attr="live_variants"),
        primary_image_prefetch(),
    ).annotate(**card_aggregates())


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


def with_price_from(queryset: QuerySet[Product]) -> QuerySet[Product]:
    """Annotate `price_from`: the lowest current selling price of the active variants (Decimal)."""
    return queryset.annotate(price_from=lowest_selling_price())


def sort_products(queryset: QuerySet[Product], sort: str) -> QuerySet[Product]:
    """Order products by one of SORTS (unknown values fall back to DEFAULT_SORT). The price sorts
    annotate `price_from` when the queryset does not have it yet."""
    _, ordering = SORTS.get(sort, SORTS[DEFAULT_SORT])
    if sort in ("price", "-price") and "price_from" not in queryset.query.annotations:
        queryset = with_price_from(queryset)
    return queryset.order_by(*ordering)


def sort_keys(sort: str) -> list[Key]:
    """The keyset columns of a listing sorted by `sort` (a SORTS key or RELEVANCE)."""
    if sort == RELEVANCE:
        return RELEVANCE_KEYS
    return SORT_KEYS.get(sort, SORT_KEYS[DEFAULT_SORT])


@dataclass(slots=True)
class ProductCard:
    """One product as a listing card shows it: plain values, cheaper to render than a Product
    with annotations. Prices are Decimals in settings.SHOP_CURRENCY (None when the product has no
    active variant left); `stock_total` is units across active variants; `variant_ids` the active
    variants' ids as "12,13" (the live stock script subscribes to them); `image` its first
    ProductImage, renditions prefetched, or None. The prices are as shoppers are shown them: with or
    without tax (orders.pricing.display), at the shop country's rate of `tax_class`."""

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
    tax_class: str = "standard"

    @property
    def on_sale(self) -> bool:
        """An active variant sells below the lowest regular price."""
        return self.price_from is not None and self.price_from < self.regular_price_from


CARD_FIELDS = ("name", "slug", "rating_average", "rating_count", "tax_class")  # the product columns a card shows


@cache
def _card_rows() -> QuerySet:
    """Products as card rows: CARD_FIELDS, card_aggregates() and `image_id` (the first image's).
    Built once per process and filtered per page: resolving the aggregates is most of the cost of
    building this query (about 3 of a page's 4 ms of ORM work, measured in-process), and it
    depends on nothing that changes. Filtering clones it, so the shared one is never changed."""
    first_image = ProductImage.objects.filter(product=OuterRef("pk")).order_by(*IMAGE_ORDER).values("pk")[:1]
    return (Product.objects.order_by().values("pk", *CARD_FIELDS)
            .annotate(**card_aggregates(), image_id=Subquery(first_image)))


@cache
def _live_variant_ids() -> QuerySet:
    """(product_id, variant id) of active variants in display order; built once, as _card_rows."""
    return Variant.objects.active().values_list("product_id", "pk")


def load_cards(rows: list[dict]) -> list[ProductCard]:
    """Cards for the products of `rows` (dicts with at least "pk", in display order), with the
    same values as product_cards gives the API: 2 queries (the products with their prices, stock
    and first image's id; their active variants' ids), 2 more when some have an image (those
    images, their renditions), none for an empty list."""
    from orders.pricing.display import show_catalogue_prices  # with or without tax, as the shop shows prices

    ids = [row["pk"] for row in rows]
    if not ids:
        return []
    products = list(_card_rows().filter(pk__in=ids))
    variant_ids: dict[int, list[str]] = {}
    for product_id, pk in _live_variant_ids().filter(product_id__in=ids):
        variant_ids.setdefault(product_id, []).append(str(pk))
    image_ids = [product["image_id"] for product in products if product["image_id"] is not None]
    images = {image.pk: image for image in attach_renditions(ProductImage.objects.filter(pk__in=image_ids))} \
        if image_ids else {}
    cards = {
        product["pk"]: ProductCard(
            pk=product["pk"], name=product["name"], url=Product.url_for(product["slug"]),
            rating_average=product["rating_average"], rating_count=product["rating_count"],
            price_from=product["price_from"], regular_price_from=product["regular_price_from"],
            stock_total=product["stock_total"], variant_ids=",".join(variant_ids.get(product["pk"], ())),
            image=images.get(product["image_id"]), tax_class=product["tax_class"])
        for product in products}
    shown = [cards[pk] for pk in ids if pk in cards]
    show_catalogue_prices(shown)
    return shown


def product_cards_page(queryset: QuerySet[Product], sort: str, *, size: int, after: str = "", before: str = "",
                       last: bool = False, number: int | None = None,
                       count: Callable[[QuerySet], int] = capped_count) -> KeysetPage:
    """One keyset page (catalog.pagination) of a filtered, sorted listing, as ProductCards.

    Its cost does not grow with the listing: the page's primary keys are picked from `queryset`
    (an index scan from the cursor), then only those products' cards are read (load_cards).
    Queries: 1 + 4, and the capped count when `count` asks for it (e.g. ListingFacts.count, which
    answers from the cache while it can). `number`: the page's number (catalog.pagination)."""
    ids, page = keyset_page(queryset, sort_keys(sort), size=size, after=after, before=before, last=last,
                            number=number, count=count)
    page.items = load_cards([{"pk": pk} for pk in ids])
    return page
