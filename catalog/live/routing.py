"""WebSocket routes (mounted by shop/asgi.py behind its origin check and auth middleware)."""
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/inventory/", consumers.InventoryConsumer.as_asgi()),
    path("ws/staff/", consumers.StaffConsumer.as_asgi()),
]
