"""The home page's product rails: "On sale", "New arrivals" and "Best sellers", each of RAIL_SIZE
visible products, those with a photo first, as cards (catalog.selectors.load_cards).

Each rail tops itself up so it is never a lone card: the Luma catalogue has one discounted product
and no "new" dates, but its merchandisers' collections say what is promoted and what is new
(settings SHOP_SALE_CATEGORY and SHOP_NEW_CATEGORY).
"""
from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from .models import Category, Product, ProductImage
from .selectors import CARD_FIELDS, ProductCard, load_cards

RAIL_SIZE = 8  # two rows of four on a desktop, four rows of two on a phone


def _shown() -> QuerySet[Product]:
    """Visible products, annotated `has_photo` (order by it first: a rail shows photos first)."""
    return Product.objects.visible().annotate(has_photo=Exists(ProductImage.objects.filter(product=OuterRef("pk"))))


def _fill(*querysets: QuerySet[Product], limit: int) -> list[ProductCard]:
    """Cards for the first `limit` distinct products taken from the querysets in turn."""
    picked: list[dict] = []
    seen: set[int] = set()
    for queryset in querysets:
        if len(picked) >= limit:
            break
        for row in queryset.exclude(pk__in=seen).values("pk", *CARD_FIELDS)[: limit - len(picked)]:
            seen.add(row["pk"])
            picked.append(row)
    return load_cards(picked)


def on_sale(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """Discounted products (Product.objects.on_sale()) first, then the sale collection's best rated."""
    sale = Category(path=settings.SHOP_SALE_CATEGORY)
    return _fill(_shown().on_sale().order_by("-has_photo", "name", "pk"),
                 _shown().in_category(sale).order_by("-has_photo", "-rating_count", "name", "pk"), limit=limit)


def new_arrivals(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """The new collection's newest products, then the newest of the rest."""
    new = Category(path=settings.SHOP_NEW_CATEGORY)
    return _fill(_shown().in_category(new).order_by("-has_photo", "-created_at", "-rating_count", "pk"),
                 _shown().order_by("-has_photo", "-created_at", "-pk"), limit=limit)


def best_sellers(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """Most units ordered (order lines of every order), then most reviewed."""
    sold = Coalesce(Sum("variants__order_lines__quantity", filter=Q(variants__order_lines__isnull=False)), 0)
    return _fill(_shown().annotate(units_sold=sold).order_by("-has_photo", "-units_sold", "-rating_count", "name", "pk"),
                 limit=limit)


def category_tiles(categories: list[Category], *, taken: set[int] = frozenset()) -> list[tuple[Category, ProductCard | None]]:
    """Each category with the card of its most reviewed product with a photo (its tile's picture),
    none shown twice nor any in `taken` (product ids already on the page's hero), or None when it
    has none."""
    tiles, used = [], set(taken)
    for category in categories:
        cards = _fill(_shown().in_category(category).exclude(pk__in=used)
                      .order_by("-has_photo", "-rating_count", "name", "pk"), limit=1)
        tiles.append((category, cards[0] if cards else None))
        used.update(card.pk for card in cards)
    return tiles
