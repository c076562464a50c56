"""EventMiddleware: gives each visitor an anonymous id cookie and records the shopper events of
the storefront pages, keyed on the resolved URL name, after the view has answered.

| URL name               | method | when                          | event               |
|------------------------|--------|-------------------------------|---------------------|
| catalog:product        | GET    | 200                           | product_viewed (with recommended_by after ?ref=rec-<rail>) |
| catalog:category       | GET    | 200                           | product_list_viewed |
| catalog:search         | GET    | 200                           | search              |
| orders:cart_add        | POST   | redirected to the cart (added)| cart_updated (add)  |
| orders:cart_update     | POST   | redirect                      | cart_updated (set/remove) |
| orders:checkout        | GET    | 200                           | checkout_started    |

Recording only buffers (analytics.events.record): no database query happens here.
"""
import logging
import re
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import reverse

from . import events

logger = logging.getLogger(__name__)

COOKIE = settings.ANALYTICS_VISITOR_COOKIE
COOKIE_MAX_AGE = 365 * 24 * 3600  # seconds
_VALID = re.compile(r"^[0-9a-f]{32}$")
# The recommendation rails (recommendations.selectors) whose card links carry ?ref=rec-<rail>.
RECOMMENDATION_RAILS = frozenset({"pinned", "also_bought", "similar", "cart", "personal"})


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _context(response, name: str):
    return (getattr(response, "context_data", None) or {}).get(name)


def event_for(request: HttpRequest, response: HttpResponse) -> tuple[str, dict] | None:
    """(event_type, data) for this request and response, or None when it is not an event."""
    match = request.resolver_match
    if match is None:
        return None
    name, status = match.view_name, response.status_code
    if request.method == "GET" and status == 200:
        if name == "catalog:product":
            product = _context(response, "product")
            data = {"product_id": getattr(product, "pk", None), "slug": match.kwargs.get("slug", "")}
            rail = request.GET.get("ref", "").removeprefix("rec-")
            if rail in RECOMMENDATION_RAILS:  # a click on a recommendation (issue 27)
                data["recommended_by"] = rail
            return events.Event.Type.PRODUCT_VIEWED, data
        if name == "catalog:category":
            return events.Event.Type.PRODUCT_LIST_VIEWED, {"path": match.kwargs.get("path", "")[:200],
                                                          "page": _int(request.GET.get("page")) or 1}
        if name == "catalog:search":
            return events.Event.Type.SEARCH, {"query": request.GET.get("q", "").strip()[:200]}
        if name == "orders:checkout":
            return events.Event.Type.CHECKOUT_STARTED, {}
    if request.method == "POST" and status in (301, 302, 303):
        if name == "orders:cart_add" and response.get("Location") == reverse("orders:cart"):
            return events.Event.Type.CART_UPDATED, {
                "action": "add", "product_id": _int(request.POST.get("product")),
                "variant_id": _int(request.POST.get("variant")), "quantity": _int(request.POST.get("quantity"))}
        if name == "orders:cart_update":
            quantity = _int(request.POST.get("quantity"))
            return events.Event.Type.CART_UPDATED, {
                "action": "remove" if quantity == 0 else "set", "variant_id": _int(request.POST.get("variant")),
                "quantity": quantity}
    return None


def visitor_of(request: HttpRequest) -> tuple[str, bool]:
    """(the visitor id from the cookie, False), or (a new random id, True) when there is none."""
    visitor = request.COOKIES.get(COOKIE, "")
    return (visitor, False) if _VALID.match(visitor) else (secrets.token_hex(16), True)


def _record(request: HttpRequest, response: HttpResponse, found: tuple[str, dict] | None, visitor: str,
            is_new: bool) -> None:
    """Buffer the event `found` (type, data) and give a new visitor the cookie. Never raises."""
    try:
        if found:
            user = getattr(request, "user", None)
            events.record(found[0], user_id=user.pk if user is not None and user.is_authenticated else None,
                          session_id=visitor, data=found[1])
            if is_new:
                response.set_cookie(COOKIE, visitor, max_age=COOKIE_MAX_AGE, httponly=True, samesite="Lax",
                                    secure=request.is_secure())
    except Exception:  # noqa: BLE001 - analytics never breaks a page
        logger.warning("analytics: recording an event failed", exc_info=True)


def record_page_view(request: HttpRequest, response: HttpResponse, found: tuple[str, dict] | None) -> None:
    """For a page answered without EventMiddleware (catalog.pagecache's hits): record its event
    `found`, the (type, data) that event_for gave when the page was rendered, as EventMiddleware
    would have."""
    visitor, is_new = visitor_of(request)
    _record(request, response, found, visitor, is_new)


class EventMiddleware:
    """Sets request.analytics_visitor (and the cookie when new) and records storefront events."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        visitor, is_new = visitor_of(request)
        request.analytics_visitor = visitor
        token = events.current_visitor.set(visitor)
        try:
            response = self.get_response(request)
        finally:
            events.current_visitor.reset(token)
        try:
            found = event_for(request, response)
        except Exception:  # noqa: BLE001 - analytics never breaks a page
            logger.warning("analytics: recording an event failed", exc_info=True)
            return response
        _record(request, response, found, visitor, is_new)
        return response
