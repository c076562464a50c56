"""The WSGI app benchmarks/api.py serves with gunicorn: the whole shop (shop.urls, every
middleware) plus one bare view at /bench/bare/, the reference measured in the same processes."""
import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")

from django.core.wsgi import get_wsgi_application  # noqa: E402

application = get_wsgi_application()

from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402

import shop.urls  # noqa: E402


def bare(request):
    """No query, no serializer: the floor of a request through Django and its middleware."""
    return HttpResponse(b'{"ok": true}', content_type="application/json")


shop.urls.urlpatterns.insert(0, path("bench/bare/", bare))
