"""The product page's reads (product_page for the storefront, product_detail for the API: one
reading), its variant picker, and choosing the variant a shopper asked for."""
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from ..models import Category, Product, ProductImage, Review, Variant, attach_renditions, promotion_in
from .listing import size_sort_key

REVIEWS_SHOWN = 50  # the latest approved reviews a product page and the API show


@cache
def _visible_products_variants():
    """Active variants of visible products (Product.objects.visible()) in display order, each with
    its product: built once per process and cloned by each reading (resolving the visibility
    subquery costs more than running it, measured in-process)."""
    return (Variant.objects.active().select_related("product").filter(product__in=Product.objects.visible())
            .order_by("position", "pk"))


def product_detail(slug: str, *, include_hidden: bool = False) -> Product:
    """A visible product (any product with `include_hidden`, for staff) with what its page shows:
    `active_variants` (display order), `gallery` (its images in display order, with their
    renditions), `category_list` (its categories, deepest first) and `approved_reviews` (the
    latest approved reviews, featured first, at most REVIEWS_SHOWN; not read when its
    `rating_count`, kept in step by catalog.services, says there is none). Queries: 3 (a visible
    product is read with its active variants, which it has by definition), 4 for staff, one more
    with images, one more with reviews. Each list is read by the product's id, which costs less
    than prefetch_related's machinery (about 2 of the page's 8 ms, measured in-process).
    Raises Product.DoesNotExist."""
    if include_hidden:
        product = Product.objects.get(slug=slug)
        product.active_variants = list(Variant.objects.active().filter(product_id=product.pk)
                                       .order_by("position", "pk"))
    else:
        variants = list(_visible_products_variants().filter(product__slug=slug))
        if not variants:
            raise Product.DoesNotExist(f"No visible product {slug!r}.")
        product = variants[0].product
        for variant in variants:
            variant.product = product  # one Product object for the page
        product.active_variants = variants
    product.gallery = attach_renditions(ProductImage.objects.filter(product_id=product.pk).order_by("position", "pk"))
    product.category_list = list(Category.objects.filter(products=product.pk).order_by("-depth", "path"))
    product.approved_reviews = list(
        Review.objects.approved().filter(product=product).order_by("-is_featured", "-created_at", "-pk")[:REVIEWS_SHOWN]
    ) if product.rating_count else []
    return product


def product_page(slug: str) -> Product:
    """A visible product for its storefront page: product_detail's reading, plus `category_ids`
    (deepest first; catalog.tree gives the breadcrumbs). Raises Product.DoesNotExist, also when
    no variant is active (Product.objects.visible())."""
    product = product_detail(slug)
    product.category_ids = [category.pk for category in product.category_list]
    return product


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
    deals: list[str]  # the catalogue promotions some variant sells under now ("Summer sale 20% off")
    shown: Callable[[Decimal], Decimal]  # an entered price as shoppers are shown it

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
                 "price": str(self.shown(v.unit_price)), "regular_price": str(self.shown(v.price))}
                for v in self.variants]


def variant_picker(variants: list[Variant], shown: Callable[[Decimal], Decimal] | None = None) -> VariantPicker:
    """Arrange already-loaded variants for the product page (no queries). `shown` turns an entered
    price into the one shoppers are shown (with or without tax: orders.pricing.display); default as entered."""
    shown = shown or (lambda amount: amount)
    sizes = sorted({v.size for v in variants if v.size}, key=size_sort_key)
    colours = sorted({v.colour for v in variants if v.colour})
    by_options = {(v.size, v.colour): _stock_badge(v) for v in variants}
    grid = [(colour, [by_options.get((size, colour)) for size in sizes or [""]])
            for colour in colours or [""]]
    return VariantPicker(
        variants=variants, sizes=sizes, colours=colours, grid=grid,
        only=None if sizes or colours or not variants else _stock_badge(variants[0]),
        price_from=shown(min((v.unit_price for v in variants), default=None)),
        regular_price_from=shown(min((v.price for v in variants), default=None)),
        in_stock=any(v.in_stock for v in variants),
        deals=sorted({promotion_in(v.price_reason) for v in variants} - {""}), shown=shown)


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
