"""The product page's recommendation rails, as an htmx fragment loaded when scrolled into view (the
product page itself stays as fast, and as cacheable, as without them)."""
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from . import selectors


def product_rails(request: HttpRequest, product_id: int) -> HttpResponse:
    """/recommendations/product/<id>/: the rails of `product_id` (nothing when it has none)."""
    return render(request, "recommendations/_rails.html", {"rails": selectors.rails_for(product_id)})
