"""Project-level pages: the home page and the liveness probe."""
import re

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.conf import settings
from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.views.static import serve

from catalog import rails
from catalog.menu import category_menu
from catalog.live import realtime
from branding.selectors import branding_keys, site_branding
from catalog.tree import request_tree, version_keys
from catalog.versions import home_page_keys
from shop.cache import get_many
from shop.pagecache import cache_page_at_versions


@cache_page_at_versions(home_page_keys)
def home(request: HttpRequest) -> HttpResponse:
    """Home page: a hero, the top-level categories as tiles with photos, and the rails
    (catalog.rails): on sale, new arrivals and best sellers. A guest's is served from the page
    cache (shop.pagecache) while the catalogue and listing versions stand."""
    found = get_many([*version_keys(), *branding_keys()])  # the menu's tree and the branding: one round trip
    site_branding(request, found=found)
    request_tree(request, found=found)
    page = rails.home([item.category for item in category_menu(request)])
    return render(request, "home.html", {"hero": page.hero, "tiles": page.tiles, "rails": page.rails})


# A rendition's name holds a hash of its content (catalog.images.services.rendition_name:
# renditions/<image id>/<stem>-<width>w.<16 hex digits>.<ext>), so a URL always means the same
# bytes: cache it for a year and never revalidate. Anything else under /media/ (originals, whose
# names are reused when a file is replaced) is cached for a day.
HASHED_RENDITION = re.compile(r"renditions/\d+/[^/]+-\d+w\.[0-9a-f]{16}\.(?:webp|jpeg)")
IMMUTABLE_CACHE = "public, max-age=31536000, immutable"
MEDIA_CACHE = "public, max-age=86400"


def media(request: HttpRequest, path: str) -> HttpResponse:
    """Serve an uploaded file from MEDIA_ROOT (read per request, so tests may move it), with
    cache headers: a year and immutable for renditions, a day for other files.
    Mounted only when settings.SERVE_MEDIA is on: where no nginx serves /media/."""
    response = serve(request, path, document_root=settings.MEDIA_ROOT)
    response["Cache-Control"] = IMMUTABLE_CACHE if HASHED_RENDITION.fullmatch(path) else MEDIA_CACHE
    return response


@staff_member_required
def websocket_stats(request: HttpRequest) -> JsonResponse:
    """Staff only: open WebSocket connections per stream, e.g. {"inventory": 12, "staff": 1}."""
    return JsonResponse(realtime.open_connections())


def health(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. Touches no database."""
    return JsonResponse({"status": "ok"})


def ready(request: HttpRequest) -> JsonResponse:
    """Readiness: the database, Redis and the channel layer answer. 200 {"status": "ready"}, or
    503 {"status": "unavailable", "failed": ["redis", ...], "detail": {name: error}}."""
    from .observability import readiness_problems

    problems = readiness_problems()
    if problems:
        return JsonResponse({"status": "unavailable", "failed": sorted(problems), "detail": problems}, status=503)
    return JsonResponse({"status": "ready"})
