"""Recommendation rails as htmx fragments loaded when scrolled into view, so the pages around them
stay as fast, and as cacheable, as without them: the product page's ("Customers also bought",
"Similar products"), the cart's ("You may also like") and a customer's home page ("Picked for you")."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from analytics import events

from . import selectors


def _render(request: HttpRequest, rails: list[selectors.Rail]) -> HttpResponse:
    """The rails, each recorded as shown (an analytics event: the click-through rate's denominator)."""
    for rail in rails:
        events.record(events.Event.Type.RECOMMENDATIONS_SHOWN,
                      user_id=request.user.pk if request.user.is_authenticated else None,
                      data={"rail": rail.kind, "products": [card.pk for card in rail.cards]})
    return render(request, "recommendations/_rails.html", {"rails": rails})


def product_rails(request: HttpRequest, product_id: int) -> HttpResponse:
    """/recommendations/product/<id>/: the rails of `product_id` (nothing when it has none)."""
    return _render(request, selectors.rails_for(product_id))


def cart_rail(request: HttpRequest) -> HttpResponse:
    """/recommendations/cart/: "You may also like", from the products in the shopper's cart."""
    from orders.services import find_cart

    cart = find_cart(session=request.session, customer=request.user)
    seeds = list(cart.lines.values_list("variant__product_id", flat=True).distinct()) if cart else []
    picks = selectors.recommend(seeds=seeds, algorithm="hybrid", limit=selectors.SHOWN)[0] if seeds else []
    return _render(request, selectors.rail("cart", "You may also like", picks))


def for_you(request: HttpRequest) -> HttpResponse:
    """/recommendations/for-you/: "Picked for you" on a customer's home page, from what they
    bought and viewed (selectors.personal; nothing for a guest or a customer with neither)."""
    picks, used = selectors.personal(request.user.pk, limit=selectors.SHOWN) if request.user.is_authenticated \
        else ([], "")
    if used == "popular":  # no history: the home page's best sellers already show these
        picks = []
    return _render(request, selectors.rail("personal", "Picked for you", picks))
