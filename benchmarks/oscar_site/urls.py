"""The Oscar shop's URLs, as Oscar's guide writes them, plus /health/ (the benchmark waits for it) and,
with OSCAR_SERVE_MEDIA=true only, the photos and thumbnails from MEDIA_ROOT."""
from django.apps import apps
from django.conf import settings
from django.http import HttpResponse
from django.urls import include, path, re_path
from django.views.static import serve


def health(request):
    """200 once the process serves requests (no database, no template)."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("health/", health),
    path("", include(apps.get_app_config("oscar").urls[0])),
]

if settings.SERVE_MEDIA:
    urlpatterns.insert(0, re_path(r"^media/(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT}))
