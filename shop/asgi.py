"""ASGI entry point: HTTP goes to Django, WebSockets to the Channels URL router.

daphne serves this in `make run`, so HTTP and WebSocket share one port.
"""
import gc
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shop.settings")
django_asgi_app = get_asgi_application()  # must run before importing consumers or models

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import re_path  # noqa: E402

from catalog.live.routing import websocket_urlpatterns  # noqa: E402
from chat.routing import websocket_urlpatterns as chat_urlpatterns  # noqa: E402
from shop.consumers import UnknownStreamConsumer  # noqa: E402

# Every stream's routes, then a catch-all that closes with 4404 (shop.consumers).
websocket_routes = [*websocket_urlpatterns, *chat_urlpatterns, re_path(r"", UnknownStreamConsumer.as_asgi())]

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Every stream: origin check, then the session's user (the staff stream needs it).
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(URLRouter(websocket_routes))),
    }
)

# Everything loaded so far (settings, models, URL conf, templates' machinery) lives as long as the
# process: keep it out of the garbage collector's full collections, which with 1000 open sockets
# otherwise scan ~240,000 objects for ~150-200 ms (benchmarks/README.md).
gc.freeze()
