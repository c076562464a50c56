"""Project-level pages: the home page and the liveness probe."""
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.static import serve

from catalog import realtime, selectors


def home(request: HttpRequest) -> HttpResponse:
    """Home page: top-level categories, new arrivals and products on sale."""
    return render(
        request,
        "home.html",
        {"new_arrivals": selectors.new_arrivals(), "on_sale": selectors.products_on_sale()},
    )


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve an uploaded file from MEDIA_ROOT (read per request, so tests may move it).
    Mounted only when settings.SERVE_MEDIA is on: where no nginx serves /media/."""
    return serve(request, path, document_root=settings.MEDIA_ROOT)


@staff_member_required
def websocket_stats(request: HttpRequest) -> JsonResponse:
    """Staff only: open WebSocket connections per stream, e.g. {"inventory": 12, "staff": 1}."""
    return JsonResponse(realtime.open_connections())


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database."""
    return JsonResponse({"status": "ok"})
