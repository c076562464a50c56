"""Reads of stored recommendations, as product cards (catalog.selectors.load_cards)."""
from dataclasses import dataclass

from django.core.cache import cache
from django.db.models import Count, Q

from analytics.rollups import sales_orders
from analytics.selectors import recently_viewed
from catalog.models import Category, Product
from catalog.selectors import ProductCard, load_cards
from orders.models import OrderLine

from .models import Recommendation, Rule

SHOWN = 4  # cards per rail


@dataclass(frozen=True)
class Rail:
    """A titled row of product cards, each with the reason it is there (`reasons`, by product id)."""

    kind: str
    title: str
    cards: list[ProductCard]
    reasons: dict[int, str]


PINNED_TITLE = "Goes well with"  # the rail of products staff pinned beside a product
PINNED_REASON = "Picked by our staff"
PIN_SCORE = 1e9  # above any computed score (each seed adds at most 1 per kind)


def rules_for(product_ids) -> tuple[dict[int, list[int]], set[tuple[int, int]]]:
    """Staff merchandising for these products: ({product: [pinned, in pin order]}, {(product, blocked)})."""
    pinned: dict[int, list[int]] = {}
    blocked: set[tuple[int, int]] = set()
    for product, action, recommended in Rule.objects.filter(product_id__in=list(product_ids)).values_list(
            "product_id", "action", "recommended_id"):
        if action == Rule.Action.PIN:
            pinned.setdefault(product, []).append(recommended)
        else:
            blocked.add((product, recommended))
    return pinned, blocked


def rails_for(product_id: int, *, limit: int = SHOWN) -> list[Rail]:
    """The product page's rails: what staff pinned ("Goes well with"), then "Customers also
    bought", then "Similar products", each with at most `limit` cards of visible products with
    stock, never one staff blocked; rails with none are left out, and a product shown in one rail
    is not repeated in the next. Queries: 3, and load_cards' 4."""
    pinned, blocked = rules_for([product_id])
    stored = [(PINNED_TITLE, pk, PINNED_REASON) for pk in pinned.get(product_id, ())] + list(
        Recommendation.objects.filter(product_id=product_id).order_by("kind", "rank")
        .values_list("kind", "recommended_id", "reason"))
    buyable = _buyable({pk for _, pk, _ in stored if (product_id, pk) not in blocked}, None)
    picked: dict[str, list[tuple[int, str]]] = {}
    seen: set[int] = set()
    for kind in (PINNED_TITLE, Recommendation.Kind.ALSO_BOUGHT, Recommendation.Kind.SIMILAR):
        for stored_kind, pk, reason in stored:
            if stored_kind == kind and pk in buyable and pk not in seen and len(picked.get(kind, ())) < limit:
                picked.setdefault(kind, []).append((pk, reason))
                seen.add(pk)
    cards = {card.pk: card for card in load_cards([{"pk": pk} for pk in seen])} if seen else {}
    return [Rail(kind="pinned" if kind == PINNED_TITLE else kind,
                 title=PINNED_TITLE if kind == PINNED_TITLE else Recommendation.Kind(kind).label,
                 cards=[cards[pk] for pk, _ in picks if pk in cards], reasons=dict(picks))
            for kind, picks in picked.items()]


ALGORITHMS = ("hybrid", "also_bought", "similar", "personal", "popular")
# The hybrid's weight of also-bought (the rest of 1 goes to "similar"): what evaluate_recommendations
# chose on its validation split of the Online Retail history (benchmarks/README.md).
HYBRID_ALSO_BOUGHT_WEIGHT = 0.5


@dataclass(frozen=True)
class Pick:
    """One recommended product: its `score` (higher first), a `reason` a person can read, and a
    `confidence` in [0, 1]."""

    product_id: int
    score: float
    reason: str
    confidence: float


PERSONAL_SEEDS = 50  # a customer's most recently bought products that seed "personal" (recency, and cost)
VIEWED_SEEDS = 20  # and the products they viewed most recently (analytics events)


def purchased_products(user_id: int, *, limit: int = PERSONAL_SEEDS) -> list[int]:
    """The `limit` products a customer bought most recently (sales only), most recent first."""
    rows = (OrderLine.objects.filter(order__in=sales_orders().filter(customer_id=user_id), variant__isnull=False)
            .order_by("-order__created_at").values_list("variant__product_id", flat=True)[:limit * 20])
    return list(dict.fromkeys(rows))[:limit]


def personal(user_id: int, *, first: int | None = None, algorithm: str = "personal", limit: int = 10,
             exclude=(), include_categories=()) -> tuple[list[Pick], str]:
    """recommend() for customer `user_id`, seeded by what they bought (purchased_products) and what
    they viewed most recently (analytics.selectors.recently_viewed), bought products first. A
    product they bought is left out unless it is a consumable (Product.is_consumable); one they
    only viewed is left out too (they have seen it). `first`: a product to seed before them (the
    one the customer is looking at), never recommended itself."""
    bought = purchased_products(user_id)
    seeds = list(dict.fromkeys(([first] if first else []) + bought + recently_viewed(user_id, limit=VIEWED_SEEDS)))
    consumables = set(Product.objects.filter(pk__in=bought, is_consumable=True).exclude(pk=first)
                      .values_list("pk", flat=True)) if bought else set()
    return recommend(seeds=seeds, algorithm=algorithm, limit=limit, exclude=exclude,
                     include_categories=include_categories, may_repeat=consumables)


def recommend(*, seeds: list[int], algorithm: str = "hybrid", limit: int = 10, exclude=(),
              include_categories=(), may_repeat=()) -> tuple[list[Pick], str]:
    """Up to `limit` products to show beside `seeds` (a product, or what a customer bought), with
    the algorithm that produced them. `algorithm`: "also_bought" or "similar" (stored
    recommendations of that kind), "hybrid" and "personal" (both kinds, also-bought weighted
    HYBRID_ALSO_BOUGHT_WEIGHT, summed over the seeds: item-kNN), "popular" (best sellers). What
    staff pinned beside a seed comes first, what they blocked beside it never. Seeds, `exclude`
    and products neither visible nor in stock are left out, and with
    `include_categories` (ids) only products in those categories or below them are kept. When the
    chosen algorithm finds fewer than `limit`, best sellers fill the rest and the algorithm
    reported says so ("hybrid+popular")."""
    kinds = {"also_bought": {Recommendation.Kind.ALSO_BOUGHT: 1.0}, "similar": {Recommendation.Kind.SIMILAR: 1.0},
             "popular": {}}.get(algorithm, {Recommendation.Kind.ALSO_BOUGHT: HYBRID_ALSO_BOUGHT_WEIGHT,
                                            Recommendation.Kind.SIMILAR: 1 - HYBRID_ALSO_BOUGHT_WEIGHT})
    allowed = _allowed(include_categories)
    skip = (set(seeds) - set(may_repeat)) | set(exclude)
    scores: dict[int, float] = {}
    best: dict[int, tuple[float, str, float]] = {}
    pinned, blocked = rules_for(seeds) if algorithm != "popular" else ({}, set())
    for pks in pinned.values():  # staff picks first, in pin order
        for order, pk in enumerate(pks):
            if pk not in skip:
                scores[pk] = max(scores.get(pk, 0.0), PIN_SCORE - order)
                best[pk] = (scores[pk], PINNED_REASON, 1.0)
    stored = Recommendation.objects.filter(product_id__in=seeds, kind__in=list(kinds),
                                           recommended__is_visible=True).values_list(
        "product_id", "kind", "recommended_id", "score", "reason", "confidence")
    top_score: dict[tuple[int, str], float] = {}
    rows = list(stored)
    for seed, kind, _, score, _, _ in rows:
        top_score[seed, kind] = max(top_score.get((seed, kind), 0.0), score)
    for seed, kind, pk, score, reason, confidence in rows:
        if pk in skip or (seed, pk) in blocked:
            continue
        part = kinds[kind] * score / (top_score[seed, kind] or 1.0)  # each seed's list scaled to its best
        scores[pk] = scores.get(pk, 0.0) + part
        if pk not in best or (part > best[pk][0] and best[pk][1] != PINNED_REASON):
            best[pk] = (part, reason, confidence)
    buyable = _buyable(set(scores), allowed)
    picks = [Pick(pk, round(scores[pk], 4), best[pk][1], round(best[pk][2], 3))
             for pk in sorted(scores, key=lambda pk: (-scores[pk], pk)) if pk in buyable][:limit]
    used = algorithm
    if len(picks) < limit:
        chosen = skip | {pick.product_id for pick in picks} | {pk for _, pk in blocked}
        filler = [Pick(pk, 0.0, f"Best seller: bought in {orders} orders", 0.1)
                  for pk, orders in popular(limit=limit * 3, allowed=allowed) if pk not in chosen]
        if filler:
            picks += filler[:limit - len(picks)]
            used = "popular" if algorithm == "popular" or not scores else f"{algorithm}+popular"
    return picks, used


POPULAR_KEY = "recommendations:popular"
POPULAR_STORED = 500  # best sellers kept in the cache
POPULAR_SECONDS = 3600  # seconds; each build also writes it afresh


def best_sellers() -> list[tuple[int, int]]:
    """(product id, orders) of the POPULAR_STORED best sellers of all time (sales), most orders
    first: one aggregate over every order line, so read through the cache (`popular`)."""
    return list(OrderLine.objects.filter(order__in=sales_orders(), variant__isnull=False)
                .values("variant__product_id").annotate(orders=Count("order_id", distinct=True))
                .order_by("-orders", "variant__product_id").values_list("variant__product_id", "orders")
                [:POPULAR_STORED])


def popular(*, limit: int, allowed=None) -> list[tuple[int, int]]:
    """(product id, orders) of the best sellers that are visible and in stock now, most orders
    first (best_sellers, kept POPULAR_SECONDS in the cache)."""
    rows = cache.get(POPULAR_KEY)
    if rows is None:
        rows = best_sellers()
        cache.set(POPULAR_KEY, rows, POPULAR_SECONDS)
    buyable = _buyable({pk for pk, _ in rows}, allowed)
    return [(pk, orders) for pk, orders in rows if pk in buyable][:limit]


def rail(kind: str, title: str, picks: list[Pick]) -> list[Rail]:
    """A rail of `picks` as cards ([] when there are none)."""
    cards = {card.pk: card for card in load_cards([{"pk": pick.product_id} for pick in picks])} if picks else {}
    shown = [cards[pick.product_id] for pick in picks if pick.product_id in cards]
    return [Rail(kind=kind, title=title, cards=shown, reasons={pick.product_id: pick.reason for pick in picks})] \
        if shown else []


def _allowed(category_ids) -> set[int] | None:
    """Products in these categories or below them; None for no restriction."""
    if not category_ids:
        return None
    paths = list(Category.objects.filter(pk__in=list(category_ids)).values_list("path", flat=True))
    which = Q(pk__in=[])
    for path in paths:
        which |= Q(category__path=path) | Q(category__path__startswith=path + "/")
    return set(Product.categories.through.objects.filter(which).values_list("product_id", flat=True))


def _buyable(product_ids: set[int], allowed: set[int] | None) -> set[int]:
    """Those of `product_ids` a shopper can buy now (visible, an active variant in stock), within `allowed`."""
    if allowed is not None:
        product_ids &= allowed
    if not product_ids:
        return set()
    return set(Product.objects.visible().filter(pk__in=product_ids, variants__is_active=True,
                                                variants__stock__gt=0).values_list("pk", flat=True))
