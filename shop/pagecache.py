"""The page cache, on the shop's version scheme (shop/cache.py).

`cache_page_at_versions` decorates a view. A cacheable request (`cacheable_request`: a guest's
GET with no session, only the listing's own parameters) is answered from the cache when the page
is there at the current versions of the keys the view names; otherwise the view renders, and a
200 HTML page without a CSP nonce is stored. It runs inside the normal middleware stack, so CSRF,
X-Frame-Options, security headers and analytics apply to hits as to any response; the page's CSRF
token is stored as a placeholder that each hit replaces with the shopper's own (`get_token`).

A shopper with a session gets the page rendered for them, but a part that is the same for every
shopper and costs more to render than to fetch is a `{% cache %}` fragment varying on the same
versions (`fragment_vary_on`): a category's card grid.
Settings: SHOP_PAGE_CACHE_SECONDS (0 turns pages and fragments off; off by default without Redis,
since a process-local cache cannot see another process's bump), SHOP_PAGE_CACHE_NAMESPACE.
"""
import hashlib
import logging
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import patch_vary_headers

from shop.cache import current_versions, get_many, namespace

logger = logging.getLogger(__name__)

CSRF_PLACEHOLDER = "__CSRF_TOKEN_PLACEHOLDER__"
CSRF_FIELD = re.compile(rb'(name="csrfmiddlewaretoken" value=")[^"]*(")')
CACHEABLE_PARAMS = {"sort", "size", "colour", "min_price", "max_price", "in_stock", "after", "before", "last", "page"}
CACHE_HEADER = "X-Page-Cache"  # HIT or MISS, for benchmarks and debugging


def enabled() -> bool:
    """Whether pages are cached (SHOP_PAGE_CACHE_SECONDS > 0)."""
    return settings.SHOP_PAGE_CACHE_SECONDS > 0


def cacheable_request(request: HttpRequest) -> bool:
    """GET/HEAD without a session, messages or htmx: the page is the same for every such shopper.
    Only the listing's own parameters may be in the query string, so that made-up ones cannot fill
    the cache with copies of a page. The CSRF and analytics visitor cookies change nothing shown."""
    neutral_cookies = {settings.CSRF_COOKIE_NAME, settings.ANALYTICS_VISITOR_COOKIE}
    return (enabled() and request.method in ("GET", "HEAD") and set(request.COOKIES) <= neutral_cookies
            and "HTTP_HX_REQUEST" not in request.META and set(request.GET) <= CACHEABLE_PARAMS)


def fragment_vary_on(request: HttpRequest, keys: list[str], found: dict | None = None) -> list[str] | None:
    """What a `{% cache %}` fragment of this page that is the same for every shopper (a listing's
    card grid) varies on: the current versions of `keys` (from `found`, values already read, where
    it has them) and the path with its query string. None (render it, cache nothing) when the page cache is off,
    the cache is down, or the query string holds parameters other than the listing's own."""
    if not enabled() or not set(request.GET) <= CACHEABLE_PARAMS:
        return None
    versions = current_versions(keys, found)
    return None if versions is None else [*versions, request.get_full_path()]


def _page_key(request: HttpRequest) -> str:
    return f"{namespace()}:html:{hashlib.sha256(request.get_full_path().encode()).hexdigest()}"


def cache_page_at_versions(version_keys: Callable[[dict], list[str]], *,
                           keep_context: Callable[[dict], dict] | None = None):
    """A view decorator: a guest's page served from the cache while the versions at
    `version_keys(url_kwargs)` stand (see the module docstring). `keep_context(context_data)`, if
    given, names the small, picklable part of a rendered page's context that a hit's response
    carries as its `context_data` (what the analytics middleware reads of a page view)."""
    def decorator(view):
        @wraps(view)
        def cached_view(request: HttpRequest, *args, **kwargs) -> HttpResponse:
            if not cacheable_request(request):
                return view(request, *args, **kwargs)
            keys, page_key = version_keys(kwargs), _page_key(request)
            found = get_many([page_key, *keys])
            versions = current_versions(keys, found)
            if versions is None:
                return view(request, *args, **kwargs)
            entry = found.get(page_key)
            if entry is not None and entry["versions"] == versions:
                return _response(request, entry, "HIT")
            response = view(request, *args, **kwargs)
            if hasattr(response, "render"):
                response = response.render()
            if response.status_code != 200 or response.streaming or b"nonce=" in response.content:
                return response
            entry = {"versions": versions, "content_type": response["Content-Type"],
                     "content": CSRF_FIELD.sub(rb"\g<1>" + CSRF_PLACEHOLDER.encode() + rb"\g<2>", response.content),
                     "context": keep_context(response.context_data or {}) if keep_context else None}
            try:
                cache.set(page_key, entry, timeout=settings.SHOP_PAGE_CACHE_SECONDS)
            except Exception:
                logger.exception("Could not store a page in the cache")
            response[CACHE_HEADER] = "MISS"
            patch_vary_headers(response, ["Cookie"])
            return response
        return cached_view
    return decorator


def _response(request: HttpRequest, entry: dict, state: str) -> HttpResponse:
    """A hit: the stored page, with the shopper's own CSRF token in place of the placeholder."""
    content = entry["content"]
    if CSRF_PLACEHOLDER.encode() in content:
        content = content.replace(CSRF_PLACEHOLDER.encode(), get_token(request).encode())
    response = HttpResponse(content, content_type=entry["content_type"])
    if entry.get("context") is not None:
        response.context_data = entry["context"]
    response[CACHE_HEADER] = state
    patch_vary_headers(response, ["Cookie"])
    return response
