"""The API's answers (POST /api/v1/recommendations), computed by recommendations.selectors and
cached on the shop's one invalidation scheme (shop/cache.py).

An answer is filed under its question (user, product, algorithm, limit, filters) together with
the values of three version keys when it was computed, and served while they are the current ones
(read with the entry in one round trip):
- `version_key()`: the stored recommendations and the staff rules. Bumped after a build commits,
  after an order's incremental update (which also changes its buyer's seeds), and on every save
  or delete of a merchandising rule.
- the listing version (catalog.versions.listing_version_key): every stock change and every save
  of a product, variant or category, so that a product that sold out or was hidden leaves every
  answer at once.
- the catalogue version: the category tree that `include_categories` reads.
A customer's recently viewed products also seed their answer, and no version reports a view:
answers for a customer live RECOMMENDATIONS_PERSONAL_CACHE_SECONDS at most (a product viewed shows
in them within that time), others RECOMMENDATIONS_ANSWER_CACHE_SECONDS (0: no caching). What it buys, measured with benchmarks/recommendations_api.py: see there.
"""
import hashlib
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from catalog.models import Product
from catalog.versions import catalog_version_key, listing_version_key
from shop.cache import bump, current_versions, get_many, namespace

from . import selectors


class UnknownProduct(LookupError):
    """The product asked about is not one a shopper can see."""


def version_key() -> str:
    """The version key of the stored recommendations and rules."""
    return f"{namespace()}:v:recommendations"


def changed(**kwargs) -> None:
    """Mark every cached answer stale now (also a signal receiver: rule saves and deletes). Never raises."""
    bump([version_key()])


def answer(*, user_id: int | None = None, product_id: int | None = None, algorithm: str = "hybrid",
           limit: int = 10, exclude=(), include_categories=()) -> dict:
    """The API's answer, as {"recommendations": [{"product": {id, name, slug, url}, "score",
    "reason", "confidence"}], "algorithm_used", "confidence_score", "generated_at" (a datetime)}: beside
    `product_id` (first seed), for customer `user_id` (what they bought and viewed), or both;
    best sellers with neither. From the cache while the versions above stand. Raises
    UnknownProduct when `product_id` is not a visible product."""
    question = {"user_id": user_id, "product_id": product_id, "algorithm": algorithm, "limit": limit,
                "exclude": tuple(exclude), "include_categories": tuple(include_categories)}
    seconds = settings.RECOMMENDATIONS_ANSWER_CACHE_SECONDS if user_id is None else \
        settings.RECOMMENDATIONS_PERSONAL_CACHE_SECONDS
    if not seconds:
        return _compute(**question)
    keys = [version_key(), listing_version_key(), catalog_version_key()]
    key = f"{namespace()}:recommendations:answer:" + hashlib.sha256(repr(sorted(question.items())).encode()).hexdigest()[:32]
    found = get_many([*keys, key])  # the versions and the entry in one round trip
    versions = current_versions(keys, found)
    entry = found.get(key)
    if versions is not None and entry is not None and entry[0] == versions:
        return entry[1]
    result = _compute(**question)
    if versions is not None:
        cache.set(key, (versions, result), seconds)
    return result


def _compute(*, user_id, product_id, algorithm, limit, exclude, include_categories) -> dict:
    """answer(), uncached."""
    if product_id is not None and not Product.objects.visible().filter(pk=product_id).exists():
        raise UnknownProduct(product_id)
    options = {"algorithm": algorithm, "limit": limit, "exclude": exclude, "include_categories": include_categories}
    if user_id is None:
        picks, used = selectors.recommend(seeds=[product_id] if product_id else [], **options)
    else:
        picks, used = selectors.personal(user_id, first=product_id, **options)
    products = Product.objects.in_bulk([pick.product_id for pick in picks])
    items = [{"product": {"id": pick.product_id, "name": products[pick.product_id].name,
                          "slug": products[pick.product_id].slug,
                          "url": products[pick.product_id].get_absolute_url()},
              "score": pick.score, "reason": pick.reason, "confidence": pick.confidence} for pick in picks]
    confidence = round(sum(pick.confidence for pick in picks) / len(picks), 3) if picks else 0.0
    return {"recommendations": items, "algorithm_used": used, "confidence_score": confidence,
            "generated_at": timezone.now()}
