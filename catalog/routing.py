"""WebSocket routes (mounted by shop/asgi.py, behind its origin check)."""
from channels.auth import AuthMiddlewareStack
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    # Public stock needs no session or user: skipping them saves a database hop on every connect
    # and a wrapper on every frame (benchmarks/README.md).
    path("ws/inventory/", consumers.InventoryConsumer.as_asgi()),
    path("ws/staff/", AuthMiddlewareStack(consumers.StaffConsumer.as_asgi())),
]
