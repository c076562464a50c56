"""Project-level pages: the home page and the liveness probe."""
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

from catalog import selectors


def home(request: HttpRequest) -> HttpResponse:
    """Home page: top-level categories, new arrivals and products on sale."""
    return render(
        request,
        "home.html",
        {"new_arrivals": selectors.new_arrivals(), "on_sale": selectors.products_on_sale()},
    )


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database."""
    return JsonResponse({"status": "ok"})
