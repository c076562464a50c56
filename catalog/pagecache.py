"""Page cache for the category and product pages, invalidated by stock and price changes.

A page is cached as rendered HTML under its URL, with the *versions* it was rendered at: the
version of its category (or product) and the catalogue-wide version. A stock or price change bumps
the versions of the products' pages, of every category holding them and of those categories'
ancestors, after the transaction commits (`invalidate_products`, called from catalog.services).
An entry whose versions are not the current ones is never served, so no page shows stale stock.
The versions are read *before* the page is rendered: a page rendered while a change commits is
stored under the old version and so is never served after the bump.

Only requests that carry no session (no cookie but the CSRF cookie and the analytics visitor id,
which change nothing on the page) are served from the cache: their
header, cart badge and messages are the anonymous ones. The CSRF token in a cached page is a
placeholder that each response replaces with the shopper's own token. A page whose HTML uses a
CSP nonce is not cached (the nonce is per response).

Hits are served by `PageCacheMiddleware`, placed right after the security, CSP and static-file
layers: a guest's cached page skips the session, CORS, CSRF check, auth, messages, htmx, axes and
analytics layers and the view, whose only effects on such a request it applies itself through
their own code (Django's CSRF cookie and X-Frame-Options, analytics' page-view event and visitor
cookie). A miss goes on down the stack to the view, which renders and stores the page with
`serve()`.

Each process also keeps its most recent pages (`_LocalPages`), so that a hit reads only the
versions from Redis. Cache errors (Redis down) are logged and the page is rendered as if there were no cache.
Settings: SHOP_PAGE_CACHE_SECONDS (0 turns it off; off by default without Redis, since a
process-local cache cannot see another process's invalidation), SHOP_PAGE_CACHE_NAMESPACE (change
it to drop every cached page, e.g. on a release).
"""
import hashlib
import logging
import re
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterable

from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.middleware.clickjacking import XFrameOptionsMiddleware
from django.middleware.csrf import CsrfViewMiddleware, get_token
from django.urls import Resolver404, resolve
from django.utils.cache import patch_vary_headers

logger = logging.getLogger(__name__)

CSRF_PLACEHOLDER = "__CSRF_TOKEN_PLACEHOLDER__"
CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CACHEABLE_PARAMS = {"sort", "size", "colour", "min_price", "max_price", "in_stock", "after", "before", "last"}
CACHE_HEADER = "X-Page-Cache"  # HIT or MISS, for benchmarks and debugging


def _ns() -> str:
    return f"page:{settings.SHOP_PAGE_CACHE_NAMESPACE}"


def catalog_version_key() -> str:
    return f"{_ns()}:v:catalog"


def category_version_key(path: str) -> str:
    return f"{_ns()}:v:c:{path}"


def product_version_key(slug: str) -> str:
    return f"{_ns()}:v:p:{slug}"


def catalog_facets_prefix() -> str:
    """Key prefix for cached listing facets and counts (catalog.selectors.ListingFacts). They
    expire after SHOP_FACETS_CACHE_SECONDS, or at once when SHOP_PAGE_CACHE_NAMESPACE changes."""
    return f"{_ns()}:facets"


def _new_version() -> str:
    return uuid.uuid4().hex[:16]


def enabled() -> bool:
    return settings.SHOP_PAGE_CACHE_SECONDS > 0


def bump(keys: Iterable[str]) -> None:
    """Give these versions new values (pages rendered at the old ones are no longer served)."""
    keys = list(keys)
    if not keys:
        return
    try:
        cache.set_many({key: _new_version() for key in keys}, timeout=None)
    except Exception:  # the change stands; pages expire after SHOP_PAGE_CACHE_SECONDS at worst
        logger.exception("Could not invalidate %d cached page versions", len(keys))


def ancestor_paths(path: str) -> list[str]:
    """ "a/b/c" -> ["a", "a/b", "a/b/c"]."""
    parts = path.split("/")
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def invalidate_products(*, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = ()) -> None:
    """Drop the cached pages showing these products (or these variants' products) now: their
    product pages, their categories' pages and the pages of those categories' ancestors.
    Two queries. Use `invalidate_products_on_commit` inside a transaction."""
    from .models import Product

    product_ids, variant_ids = set(product_ids), set(variant_ids)
    if not (product_ids or variant_ids):
        return
    from django.db.models import Q

    which = Q(pk__in=product_ids) | Q(variants__pk__in=variant_ids)
    slugs = set(Product.objects.filter(which).values_list("slug", flat=True))
    through = Product.categories.through.objects.filter(
        Q(product_id__in=product_ids) | Q(product__variants__pk__in=variant_ids))
    paths = {ancestor for path in through.values_list("category__path", flat=True).distinct()
             for ancestor in ancestor_paths(path)}
    bump([product_version_key(slug) for slug in slugs] + [category_version_key(path) for path in paths])


def invalidate_products_on_commit(*, product_ids: Iterable[int] = (), variant_ids: Iterable[int] = ()) -> None:
    """`invalidate_products` after the current transaction commits (at once outside one)."""
    product_ids, variant_ids = sorted(set(product_ids)), sorted(set(variant_ids))
    if product_ids or variant_ids:
        transaction.on_commit(lambda: invalidate_products(product_ids=product_ids, variant_ids=variant_ids),
                              robust=True)


def invalidate_catalog_on_commit() -> None:
    """Drop every cached page after commit (a product, category, image or review was edited)."""
    transaction.on_commit(lambda: bump([catalog_version_key()]), robust=True)


_reader = threading.local()


def get_many(keys: list[str]) -> dict:
    """cache.get_many(keys), through one redis client kept per thread when the cache is Redis:
    Django's Redis backend builds a new client for every call, which costs about as much CPU
    (~0.1 ms) as a whole bare view, and a page-cache hit makes this call on every request."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return backend.get_many(keys)
    held = getattr(_reader, "held", None)
    if held is None or held[0] is not backend:
        held = _reader.held = (backend, backend._cache.get_client())

    def mget() -> dict:
        # Our keys are short and plain: make_key, without the per-character memcached check.
        values = held[1].mget([backend.make_key(key) for key in keys])
        loads = backend._cache._serializer.loads
        return {key: loads(value) for key, value in zip(keys, values) if value is not None}

    guard = getattr(backend, "_guard", None)  # shop.cache.DegradingRedisCache: a miss while Redis is down
    return guard("get_many", {}, mget) if guard else mget()


def current_versions(keys: list[str]) -> list[str] | None:
    """Current values of the version keys, creating missing ones; None if the cache is down.
    (Several cache round trips: read the versions with get_many first, and call this only for
    missing ones.)"""
    try:
        found = cache.get_many(keys)
        missing = {key: _new_version() for key in keys if key not in found}
        for key, value in missing.items():
            if not cache.add(key, value, timeout=None):
                value = cache.get(key)
            found[key] = value
        return [found[key] for key in keys]
    except Exception:
        logger.exception("Page cache unavailable; rendering without it")
        return None


def cacheable_request(request: HttpRequest) -> bool:
    """GET/HEAD without a session, messages or htmx: the page is the same for every such shopper.
    Only the listing's own parameters may be in the query string, so that made-up ones cannot fill
    the cache with copies of a page."""
    neutral_cookies = {settings.CSRF_COOKIE_NAME, settings.ANALYTICS_VISITOR_COOKIE}
    return (enabled() and request.method in ("GET", "HEAD") and set(request.COOKIES) <= neutral_cookies
            and "HTTP_HX_REQUEST" not in request.META and set(request.GET) <= CACHEABLE_PARAMS)


# The pages this cache serves: URL name -> the version keys of the page at that URL's kwargs.
PAGE_VERSIONS: dict[str, Callable[[dict], list[str]]] = {
    "catalog:category": lambda kwargs: [category_version_key(kwargs["path"])],
    "catalog:product": lambda kwargs: [product_version_key(kwargs["slug"])],
}


def page_version_keys(view_name: str, kwargs: dict) -> list[str]:
    """The version keys of the page of URL `view_name` with `kwargs` (a PAGE_VERSIONS page): the
    catalogue's and the page's own. Data cached for that page under them (catalog.selectors.
    ListingFacts) is as fresh as the page."""
    return [catalog_version_key(), *PAGE_VERSIONS[view_name](kwargs)]


def _page_key(request: HttpRequest) -> str:
    return f"{_ns()}:html:{hashlib.sha256(request.get_full_path().encode()).hexdigest()}"


def _lookup(page_key: str, keys: list[str]) -> dict | None:
    """The entry stored under `page_key` if it was rendered at the current versions of `keys`;
    None on a miss or with the cache down. One round trip: the (small) versions, and the page too
    unless this process already holds it at those versions."""
    local = _local.get(page_key)
    try:
        found = get_many(keys if local else [page_key, *keys])
    except Exception:
        logger.exception("Page cache unavailable; rendering without it")
        return None
    versions = [found.get(key) for key in keys]
    if None in versions:
        return None
    if local is not None and local["versions"] == versions:
        return local
    entry = found.get(page_key)
    if entry is None and local is not None:
        entry = cache.get(page_key)
    if entry is not None and entry["versions"] == versions:
        _local.put(page_key, entry)
        return entry
    return None


def serve(request: HttpRequest, render: Callable[[], HttpResponse]) -> HttpResponse:
    """`render()` the page for `request` and store it at the current versions of its keys
    (PAGE_VERSIONS, by the URL's name). Hits never get here: PageCacheMiddleware answers them."""
    match = request.resolver_match
    if not cacheable_request(request) or match is None or match.view_name not in PAGE_VERSIONS:
        return render()
    keys = page_version_keys(match.view_name, match.kwargs)
    page_key = _page_key(request)
    versions = current_versions(keys)
    if versions is None:
        return render()
    response = render()
    if hasattr(response, "render"):
        response = response.render()
    if response.status_code != 200 or response.streaming or b"nonce=" in response.content:
        return response
    from analytics.middleware import event_for

    entry = {"versions": versions, "content": CSRF_FIELD.sub(rb"\g<1>" + CSRF_PLACEHOLDER.encode() + rb"\g<2>",
                                                            response.content),
             "content_type": response["Content-Type"],
             "event": event_for(request, response)}  # the page view a hit records, as (type, data)
    try:
        cache.set(page_key, entry, timeout=settings.SHOP_PAGE_CACHE_SECONDS)
        _local.put(page_key, entry)
    except Exception:
        logger.exception("Could not store a page in the cache")
    response[CACHE_HEADER] = "MISS"
    patch_vary_headers(response, ["Cookie"])
    return response


class PageCacheMiddleware:
    """Answers a guest's request for a cached page (`PAGE_VERSIONS`) before the layers below it.

    Place it right after WhiteNoiseMiddleware: the request id, metrics, logging, security headers
    and Content-Security-Policy layers above it still run. Of the layers it skips, those that change
    a guest's response are applied here through their own code: CsrfViewMiddleware (the CSRF
    cookie behind the page's fresh token), XFrameOptionsMiddleware, and analytics' page view and
    visitor cookie (`analytics.middleware.record_page_view`). The session, auth, messages, htmx and
    axes layers do nothing for a request without a session cookie or htmx header, which is all
    `cacheable_request` lets through. Anything else, including every miss, goes down the stack."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.csrf = CsrfViewMiddleware(get_response)
        self.xframe = XFrameOptionsMiddleware(get_response)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.hit(request) if cacheable_request(request) else None
        return self.get_response(request) if response is None else response

    def hit(self, request: HttpRequest) -> HttpResponse | None:
        """The cached response for `request`, or None."""
        page_key = _page_key(request)
        local = _local.get(page_key)
        if local is not None and "match" in local:  # this process has served it: no need to resolve
            match, keys = local["match"], local["keys"]
        else:
            try:
                match = resolve(request.path_info)
            except Resolver404:
                return None
            if match.view_name not in PAGE_VERSIONS:
                return None
            keys = page_version_keys(match.view_name, match.kwargs)
        entry = _lookup(page_key, keys)
        if entry is None:
            return None
        entry["match"], entry["keys"] = match, keys  # the process-local copy (_lookup kept it)
        from analytics.middleware import record_page_view

        request.resolver_match = match  # for the metrics' view label and the event
        self.csrf.process_request(request)
        response = _response(request, entry, hit=True)
        response = self.xframe.process_response(request, response)
        response = self.csrf.process_response(request, response)
        record_page_view(request, response, entry.get("event"))
        return response


class _LocalPages:
    """The most recently served pages of this process (at most SIZE), so that a hit fetches only
    the versions from the shared cache, not the page. An entry here is only ever served after its
    versions were checked against the shared cache's, in the same round trip; it also expires with
    SHOP_PAGE_CACHE_SECONDS like the shared entry."""

    SIZE = 256

    def __init__(self):
        self._pages: OrderedDict[str, tuple[float, dict]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> dict | None:
        with self._lock:
            found = self._pages.get(key)
            if found is None:
                return None
            if found[0] < time.monotonic():
                del self._pages[key]
                return None
            self._pages.move_to_end(key)
            return found[1]

    def put(self, key: str, entry: dict) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + settings.SHOP_PAGE_CACHE_SECONDS, entry)
            self._pages.move_to_end(key)
            while len(self._pages) > self.SIZE:
                self._pages.popitem(last=False)


_local = _LocalPages()


def _response(request: HttpRequest, entry: dict, *, hit: bool) -> HttpResponse:
    content = entry["content"]
    if CSRF_PLACEHOLDER.encode() in content:
        content = content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    response = HttpResponse(content, content_type=entry["content_type"])
    response[CACHE_HEADER] = "HIT" if hit else "MISS"
    patch_vary_headers(response, ["Cookie"])
    return response
