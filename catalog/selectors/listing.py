"""Listing reads beside the cards: the category tree's top and breadcrumbs, the filters on offer
(facets) and the cached facets and count of a listing (ListingFacts)."""
import hashlib
import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import Category, Product, Variant
from ..pagination import capped_count
from ..tree import category_tree

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
      parameters) is kept only while the versions at `version_keys` stand (catalog.versions: a
      category's version moves with every stock, price or catalogue change the listing could
      show), so a count is never stale. Without version keys (search) it is counted each time.
    Without a key, with SHOP_FACETS_CACHE_SECONDS = 0 or with the cache down, both are computed
    (facets: two queries; count: one). `also` names other cache keys to read in the same round
    trip (e.g. the category tree's versions); their values are in `found`."""

    def __init__(self, key: str | None, *, filters: str = "", version_keys: list[str] = (), also: list[str] = ()):
        from .. import versions

        self._found: dict = {}
        self._versions: list | None = None
        self._store: dict = {}
        if not key or settings.SHOP_FACETS_CACHE_SECONDS <= 0:
            self._facets_key = self._count_key = None
            return
        digest = lambda text: hashlib.sha256(text.encode()).hexdigest()[:32]  # noqa: E731
        self._facets_key = f"{versions.catalog_facets_prefix()}:{digest(key)}"
        self._count_key = f"{versions.catalog_facets_prefix()}:count:{digest(key + '?' + filters)}" \
            if version_keys else None
        self._version_keys = list(version_keys)
        try:
            self._found = versions.get_many([self._facets_key, *([self._count_key] if self._count_key else []),
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
            from .. import versions

            self._versions = versions.current_versions(self._version_keys)
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

def matching_variant_exists(*conditions: Q, **variant_filters) -> Exists:
    """An Exists() over active variants of the outer product that match `conditions` (Q objects
    on the variant) and `variant_filters`."""
    return Exists(
        Variant.objects.active().with_effective_price().filter(product=OuterRef("pk"))
        .filter(*conditions, **variant_filters)
    )


def shown_price_in(low: Decimal | None, high: Decimal | None, *, as_shown: bool = True) -> Q:
    """A condition on an active variant (with_effective_price) whose selling price, as shoppers
    are shown it (with or without tax, orders.pricing.display), is within `low`..`high` (None:
    open), for listing filters: shoppers type the prices they see. `as_shown=False`: the range is
    in entered prices (what the API shows)."""
    from orders.pricing.display import entered_price_bounds

    per_class = entered_price_bounds(low, high) if as_shown else {}
    if not per_class:  # shown as entered
        return Q(**({} if low is None else {"effective_price__gte": low}),
                 **({} if high is None else {"effective_price__lte": high}))
    either = Q(pk__in=[])
    for tax_class, (entered_low, entered_high) in per_class.items():
        either |= Q(product__tax_class=tax_class,
                    **({} if entered_low is None else {"effective_price__gte": entered_low}),
                    **({} if entered_high is None else {"effective_price__lt": entered_high}))
    return either

