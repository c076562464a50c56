"""Catalogue promotions onto variants: which promotion wins for each variant, written where the one
price rule reads it (catalog.models.selling_price and Variant.unit_price).

A promotion's price is worked out per variant from its price (Promotion.price_for), and when several
run for one variant the lowest price wins (ties: the promotion created first), as in Saleor's
"discounted price" and Oscar's "best offer for the customer". The variant's own sale price competes
too, in the price rule itself. The winner is stored on the variant (promoted_price, the price it
was worked out from, its end and its label), so that listings filter and sort by it in SQL at no
extra cost; an ended promotion or a changed price stops applying at once in the rule, before this
runs again.

`apply_promotions` runs when a promotion is saved or deleted (admin and API, after commit), when a
variant is saved (its price may have changed), every PROMOTIONS_REFRESH_SECONDS (beat: promotions
that start) and when a worker starts (shop.recovery).
"""
import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from catalog import versions
from catalog.listing_cache import bump as bump_listings
from catalog.models import Product, Variant

from .models import Promotion

logger = logging.getLogger(__name__)

FIELDS = ("promoted_price", "promotion_base_price", "promoted_until", "promotion_label")


def running(now: datetime | None = None):
    """Promotions running at `now` (default: now): active, started, not ended; oldest first."""
    now = now or timezone.now()
    return (Promotion.objects.filter(is_active=True, starts_at__lte=now)
            .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=now)).order_by("created_at", "pk"))


def variants_of(promotion: Promotion):
    """The variants `promotion` applies to: its variants, its products' and those of the products
    in its categories or below them."""
    which = Q(pk__in=promotion.variants.values("pk")) | Q(product__in=promotion.products.values("pk"))
    paths = list(promotion.categories.values_list("path", flat=True))
    if paths:
        in_tree = Q()
        for path in paths:
            in_tree |= Q(category__path=path) | Q(category__path__startswith=path + "/")
        products = Product.categories.through.objects.filter(in_tree).values("product_id")
        which |= Q(product__in=products)
    return Variant.objects.filter(which)


def best_promotions(promotions: list[Promotion], variants: Iterable[Variant]) -> dict[int, tuple]:
    """{variant id: (promoted price, promotion)} for the promotion giving each variant of
    `variants` its lowest price (only where that is below its price). Each variant's promotions
    are the pks in `variant.promotion_ids`; `promotions` oldest first: the first one wins a tie."""
    best: dict[int, tuple] = {}
    for variant in variants:
        for promotion in promotions:
            if promotion.pk not in variant.promotion_ids:
                continue
            price = promotion.price_for(variant.price)
            if price < variant.price and (variant.pk not in best or price < best[variant.pk][0]):
                best[variant.pk] = (price, promotion)
    return best


def apply_promotions(*, variant_ids: Iterable[int] | None = None, now: datetime | None = None) -> int:
    """Write the winning running promotion onto every variant (or those of `variant_ids`), and
    clear it from those no promotion covers any more. The pages and API listings showing a changed
    variant are refreshed after commit. Returns how many variants changed. Queries: one per
    running promotion, plus the variants' and one bulk update."""
    now = now or timezone.now()
    promotions = list(running(now))
    covered: dict[int, set[int]] = {}
    only = None if variant_ids is None else set(variant_ids)
    for promotion in promotions:
        ids = variants_of(promotion).values_list("pk", flat=True)
        for pk in (ids if only is None else ids.filter(pk__in=only)):
            covered.setdefault(pk, set()).add(promotion.pk)
    scope = Q(pk__in=covered) | Q(promoted_price__isnull=False)
    if only is not None:
        scope &= Q(pk__in=only)
    # No row locks (checkout holds them): a price saved meanwhile leaves a base price that no longer
    # matches, which the price rule ignores, and that save applies the promotions again.
    with transaction.atomic():
        variants = list(Variant.objects.filter(scope).only("pk", "product_id", "price", *FIELDS))
        for variant in variants:
            variant.promotion_ids = covered.get(variant.pk, ())
        best = best_promotions(promotions, variants)
        changed = []
        for variant in variants:
            price, promotion = best.get(variant.pk, (None, None))
            values = (price, variant.price, promotion.ends_at, promotion.label) if promotion else (None, None, None, "")
            if tuple(getattr(variant, field) for field in FIELDS) != values:
                for field, value in zip(FIELDS, values, strict=True):
                    setattr(variant, field, value)
                changed.append(variant)
        if changed:
            Variant.objects.bulk_update(changed, FIELDS, batch_size=500)
            versions.invalidate_products_on_commit(variant_ids=[variant.pk for variant in changed])
            transaction.on_commit(bump_listings, robust=True)
    if changed:
        logger.info("Catalogue promotions: %d variant price(s) changed", len(changed))
    return len(changed)


def apply_promotions_on_commit(*, variant_ids: Iterable[int] | None = None) -> None:
    """`apply_promotions` after the current transaction commits (a promotion or a price was saved)."""
    ids = None if variant_ids is None else sorted(set(variant_ids))
    transaction.on_commit(lambda: apply_promotions(variant_ids=ids), robust=True)

