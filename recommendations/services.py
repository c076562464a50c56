"""Building the recommendation tables from the shop's catalogue and order history.

`build` reads every visible product's text and what each customer bought, runs the algorithms
(recommendations.algorithms), and replaces the stored recommendations in one transaction, so
that pages never see a half-built table. Run by `manage.py build_recommendations` (with a tqdm
bar), by beat nightly (recommendations.tasks) and after an order history import.
"""
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from itertools import groupby

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models import CharField
from django.db.models.functions import Cast, Coalesce, Lower
from django.utils.html import strip_tags
from tqdm import tqdm

from analytics.rollups import sales_orders
from catalog import versions
from catalog.models import Product
from orders.models import OrderLine

from . import algorithms, selectors
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


def histories() -> Iterator[list[int]]:
    """The products each customer bought (sales: paid or imported, no credit notes, no unpaid
    checkouts), one list per customer; a guest is known by the order's email."""
    lines = (OrderLine.objects.filter(variant__isnull=False, order__in=sales_orders())
             .annotate(who=Coalesce(Cast("order__customer_id", CharField()), Lower("order__email"), output_field=CharField()))
             .order_by("who").values_list("who", "variant__product_id").iterator(chunk_size=20000))
    for _, group in groupby(lines, key=lambda line: line[0]):
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
    rows += [Recommendation(product_id=pk, recommended_id=other, kind=Recommendation.Kind.ALSO_BOUGHT, rank=rank,
                            score=cosine, confidence=both / (both + MIN_SUPPORT),
                            reason=f"Bought together with {names[pk]} by {both} customers")
             for pk, picks in bought.items() for rank, (other, cosine, both) in enumerate(picks)]
    with transaction.atomic():
        Recommendation.objects.all().delete()
        Recommendation.objects.bulk_create(rows, batch_size=5000)
        versions.invalidate_catalog_on_commit()  # product pages show them
    cache.set(selectors.POPULAR_KEY, selectors.best_sellers(), selectors.POPULAR_SECONDS)
    bar.update()
    bar.close()
    report = BuildReport(products=len(texts), customers=counted[0] if counted else 0, similar=similar_rows,
                         also_bought=len(rows) - similar_rows, seconds=time.monotonic() - started)
    logger.info("Recommendations built: %s", report)
    return report


def _counting(items: Iterator, counted: list) -> Iterator:
    """`items`, counting them into counted[0] as they pass."""
    counted.append(0)
    for item in items:
        counted[0] += 1
        yield item
