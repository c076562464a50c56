"""Building the recommendation tables from the shop's catalogue and order history.

`build` reads every visible product's text and what each customer bought, runs the algorithms
(recommendations.algorithms), and replaces the stored recommendations in one transaction, so
that pages never see a half-built table. Run by `manage.py build_recommendations` (with a tqdm
bar), by beat nightly (recommendations.tasks) and after an order history import.
`update_also_bought` follows new sales: beat runs it every RECOMMENDATIONS_UPDATE_SECONDS for
the products sold since (tasks.update_recommendations).
"""
import logging
import time
from collections.abc import Iterator
from datetime import timedelta
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import CharField, Count
from django.db.models.functions import Cast, Coalesce, Lower
from django.utils import timezone
from django.utils.html import strip_tags
from tqdm import tqdm

from analytics.rollups import sales_orders
from catalog import versions
from catalog.models import Product
from orders.models import Order, OrderLine, OrderStatusChange

from . import algorithms, answers, selectors
from .models import Recommendation

logger = logging.getLogger(__name__)

TOP = 12  # recommendations stored per product and kind (pages show fewer once sold-out ones are left out)
MIN_SUPPORT = 3  # customers who must have bought both for "also bought" (fewer is chance)
NAME_WEIGHT = 3  # the name counts as often as this in a product's text
CATEGORY_WEIGHT = 2  # and each of its category paths as often as this (men's or women's, tops or bottoms)


@dataclass(frozen=True)
class BuildReport:
    """What a build did: products described, customers' histories read, rows stored per kind, seconds taken."""

    products: int
    customers: int
    similar: int
    also_bought: int
    seconds: float


def departments() -> dict[int, set[str]]:
    """{product id: the top-level categories it is in} ("men", "women", "gear"; Luma's
    "collections" and "promotions" are not departments: what they hold is already in one)."""
    result: dict[int, set[str]] = {}
    for pk, path in Product.categories.through.objects.values_list("product_id", "category__path"):
        top = path.split("/", 1)[0]
        if top not in settings.RECOMMENDATIONS_NOT_DEPARTMENTS:
            result.setdefault(pk, set()).add(top)
    return result


def product_texts() -> dict[int, str]:
    """{product id: its text} for visible products: the name (NAME_WEIGHT times), the description
    without markup, the attribute values and the words of its categories' paths, from the top (CATEGORY_WEIGHT times)."""
    texts: dict[int, list[str]] = {}
    for pk, name, description, attributes in Product.objects.visible().values_list(
            "pk", "name", "description", "attributes").iterator(chunk_size=2000):
        values = [str(value) for values in (attributes or {}).values()
                  for value in (values if isinstance(values, list) else [values])]
        texts[pk] = [name] * NAME_WEIGHT + [strip_tags(description or ""), *values]
    for pk, path in Product.categories.through.objects.filter(product_id__in=texts).values_list(
            "product_id", "category__path"):
        texts[pk] += [path.replace("/", " ").replace("-", " ")] * CATEGORY_WEIGHT  # "men tops jackets"
    return {pk: " ".join(parts) for pk, parts in texts.items()}


def sold_lines():
    """Order lines of sales (paid or imported, no credit notes, no unpaid checkouts) with a product,
    each annotated with `who` bought it: the customer's id, or a guest's email."""
    return (OrderLine.objects.filter(variant__isnull=False, order__in=sales_orders())
            .annotate(who=Coalesce(Cast("order__customer_id", CharField()), Lower("order__email"),
                                   output_field=CharField())))


def histories(products=None) -> Iterator[list[int]]:
    """The products each customer bought (sold_lines), one list per customer; with `products`
    (ids), only the customers who bought at least one of them."""
    lines = sold_lines()
    if products is not None:
        lines = lines.filter(who__in=sold_lines().filter(variant__product_id__in=list(products)).values("who"))
    rows = lines.order_by("who").values_list("who", "variant__product_id").iterator(chunk_size=20000)
    for _, group in groupby(rows, key=lambda line: line[0]):
        yield [product_id for _, product_id in group]


def build(*, progress: bool = False) -> BuildReport:
    """Recompute and store every product's recommendations (both kinds). Returns a BuildReport."""
    started = time.monotonic()
    bar = tqdm(total=4, desc="Recommendations", unit="step", disable=not progress)
    texts = product_texts()
    bar.update()
    similar = algorithms.similar(texts, top=TOP, groups=departments())
    bar.update()
    names = dict(Product.objects.values_list("pk", "name"))
    counted = []
    bought = algorithms.also_bought(_counting(histories(), counted), top=TOP, min_support=MIN_SUPPORT)
    bar.update()
    rows = [Recommendation(product_id=pk, recommended_id=other, kind=Recommendation.Kind.SIMILAR, rank=rank,
                           score=score, confidence=min(score, 1.0), reason=f"Similar to {names[pk]}")
            for pk, picks in similar.items() for rank, (other, score) in enumerate(picks)]
    similar_rows = len(rows)
    rows += _also_bought_rows(bought, names)
    with transaction.atomic():
        Recommendation.objects.all().delete()
        Recommendation.objects.bulk_create(rows, batch_size=5000)
        versions.invalidate_catalog_on_commit()  # product pages show them
        transaction.on_commit(answers.changed, robust=True)
    cache.set(selectors.POPULAR_KEY, selectors.best_sellers(), selectors.POPULAR_SECONDS)
    bar.update()
    bar.close()
    report = BuildReport(products=len(texts), customers=counted[0] if counted else 0, similar=similar_rows,
                         also_bought=len(rows) - similar_rows, seconds=time.monotonic() - started)
    logger.info("Recommendations built: %s", report)
    return report


def _also_bought_rows(bought: dict, names: dict[int, str]) -> list[Recommendation]:
    """Recommendation rows of algorithms.also_bought's lists; `names`: {product id: name}."""
    return [Recommendation(product_id=pk, recommended_id=other, kind=Recommendation.Kind.ALSO_BOUGHT, rank=rank,
                           score=cosine, confidence=both / (both + MIN_SUPPORT),
                           reason=f"Bought together with {names[pk]} by {both} customers")
            for pk, picks in bought.items() for rank, (other, cosine, both) in enumerate(picks)]


def recently_sold(seconds: float) -> set[int]:
    """Ids of the products in orders that became sales (were paid) in the last `seconds`."""
    since = timezone.now() - timedelta(seconds=seconds)
    paid = OrderStatusChange.objects.filter(to_status=Order.Status.PAID, changed_at__gte=since).values("order_id")
    return set(OrderLine.objects.filter(order_id__in=paid, variant__isnull=False)
               .values_list("variant__product_id", flat=True))


@transaction.atomic
def update_also_bought(products: set[int]) -> int:
    """The incremental update: recompute the "also bought" lists of `products` (ids) from their
    buyers' whole histories (algorithms.also_bought with `only`), the lists a full build would
    store, and store them; other products' lists wait for the nightly build (their scores move
    only through these products' popularity). Cached API answers go stale on commit. Returns how
    many rows were stored. About 2 s on the Online Retail history, for one product or hundreds (two
    passes over the sold lines), so beat runs it for every product sold since its last run
    (tasks.update_recommendations) rather than once per order."""
    if not products:
        return 0
    wanted = list(histories(products))
    others = {pk for history in wanted for pk in history}
    buyers = dict(sold_lines().filter(variant__product_id__in=list(others)).values("variant__product_id")
                  .annotate(n=Count("who", distinct=True)).values_list("variant__product_id", "n"))
    bought = algorithms.also_bought(wanted, top=TOP, min_support=MIN_SUPPORT, only=products, buyers=buyers)
    rows = _also_bought_rows(bought, dict(Product.objects.filter(pk__in=products).values_list("pk", "name")))
    Recommendation.objects.filter(product_id__in=products, kind=Recommendation.Kind.ALSO_BOUGHT).delete()
    Recommendation.objects.bulk_create(rows)
    transaction.on_commit(answers.changed, robust=True)
    return len(rows)


def _counting(items: Iterator, counted: list) -> Iterator:
    """`items`, counting them into counted[0] as they pass."""
    counted.append(0)
    for item in items:
        counted[0] += 1
        yield item
