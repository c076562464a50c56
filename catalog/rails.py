"""The home page's product rails: "On sale", "New arrivals" and "Best sellers", each of RAIL_SIZE
visible products, those with a photo first, as cards (catalog.selectors.load_cards), and the
category tiles. `home` picks every product of the page first (a small query each), then reads all
their cards at once: one load_cards for the whole page, not one per rail and per tile.

Each rail tops itself up so it is never a lone card: the Luma catalogue has one discounted product
and no "new" dates, but its merchandisers' collections say what is promoted and what is new
(settings SHOP_SALE_CATEGORY and SHOP_NEW_CATEGORY).
"""
from dataclasses import dataclass
from functools import cache, lru_cache

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce

from .models import Category, Product, ProductImage
from .selectors import ProductCard, load_cards

RAIL_SIZE = 8  # two rows of four on a desktop, four rows of two on a phone


def _shown() -> QuerySet[Product]:
    """Visible products, annotated `has_photo` (order by it first: a rail shows photos first)."""
    return Product.objects.visible().annotate(has_photo=Exists(ProductImage.objects.filter(product=OuterRef("pk"))))


# The rails' sources, built once per process (per collection path) and cloned by each pick: building
# these filtered, annotated querysets costs more than running them (about 2 ms each, measured
# in-process), and they depend on nothing but their arguments.
@lru_cache(maxsize=8)
def _sale_sources(path: str) -> tuple[QuerySet[Product], ...]:
    return (_shown().on_sale().order_by("-has_photo", "name", "pk"),
            _shown().in_category(Category(path=path)).order_by("-has_photo", "-rating_count", "name", "pk"))


@lru_cache(maxsize=8)
def _new_sources(path: str) -> tuple[QuerySet[Product], ...]:
    return (_shown().in_category(Category(path=path)).order_by("-has_photo", "-created_at", "-rating_count", "pk"),
            _shown().order_by("-has_photo", "-created_at", "-pk"))


@cache
def _best_source() -> QuerySet[Product]:
    sold = Coalesce(Sum("variants__order_lines__quantity", filter=Q(variants__order_lines__isnull=False)), 0)
    return _shown().annotate(units_sold=sold).order_by("-has_photo", "-units_sold", "-rating_count", "name", "pk")


@lru_cache(maxsize=256)
def _tile_source(path: str) -> QuerySet[Product]:
    return _shown().in_category(Category(path=path)).order_by("-has_photo", "-rating_count", "name", "pk")


def _pick(*querysets: QuerySet[Product], limit: int, taken: set[int] = frozenset()) -> list[int]:
    """The ids of the first `limit` distinct products taken from the querysets in turn, none in
    `taken`."""
    picked: list[int] = []
    for queryset in querysets:
        if len(picked) >= limit:
            break
        picked += queryset.exclude(pk__in=[*taken, *picked]).values_list("pk", flat=True)[: limit - len(picked)]
    return picked


def _on_sale(limit: int) -> list[int]:
    return _pick(*_sale_sources(settings.SHOP_SALE_CATEGORY), limit=limit)


def _new_arrivals(limit: int) -> list[int]:
    return _pick(*_new_sources(settings.SHOP_NEW_CATEGORY), limit=limit)


def _best_sellers(limit: int) -> list[int]:
    return _pick(_best_source(), limit=limit)


def _tiles(categories: list[Category], taken: set[int]) -> list[tuple[Category, int | None]]:
    used, tiles = set(taken), []
    for category in categories:
        ids = _pick(_tile_source(category.path), limit=1, taken=used)
        tiles.append((category, ids[0] if ids else None))
        used.update(ids)
    return tiles


def _cards(ids: list[int]) -> list[ProductCard]:
    return load_cards([{"pk": pk} for pk in ids])


def on_sale(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """Discounted products (Product.objects.on_sale()) first, then the sale collection's best rated."""
    return _cards(_on_sale(limit))


def new_arrivals(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """The new collection's newest products, then the newest of the rest."""
    return _cards(_new_arrivals(limit))


def best_sellers(limit: int = RAIL_SIZE) -> list[ProductCard]:
    """Most units ordered (order lines of every order), then most reviewed."""
    return _cards(_best_sellers(limit))


@dataclass
class HomePage:
    """What the home page shows: `hero` (the best seller's card, or None), `tiles` ((category,
    card of its most reviewed product with a photo, or None), none shown twice nor the hero) and
    `rails` ((title, cards), only those with cards)."""

    hero: ProductCard | None
    tiles: list[tuple[Category, ProductCard | None]]
    rails: list[tuple[str, list[ProductCard]]]


def home(categories: list[Category], limit: int = RAIL_SIZE) -> HomePage:
    """The home page's hero, tiles for `categories` and rails ("On sale", "New arrivals", "Best
    sellers"), their cards read at once. Queries: one per rail part and per tile, then load_cards."""
    best = _best_sellers(limit)
    tiles = _tiles(categories, taken=set(best[:1]))
    rails = [("On sale", _on_sale(limit)), ("New arrivals", _new_arrivals(limit)), ("Best sellers", best)]
    ids = {pk for _, picked in rails for pk in picked} | {pk for _, pk in tiles if pk is not None}
    cards = {card.pk: card for card in _cards(list(ids))}
    return HomePage(
        hero=cards.get(best[0]) if best else None,
        tiles=[(category, cards.get(pk)) for category, pk in tiles],
        rails=[(title, shown) for title, picked in rails if (shown := [cards[pk] for pk in picked if pk in cards])])
