"""Chat's WebSocket routes (mounted by shop/asgi.py behind its origin check and auth middleware)."""
from django.urls import path

from . import consumers

websocket_urlpatterns = [
    path("ws/chat/", consumers.ShopperChatConsumer.as_asgi()),
    path("ws/staff/chat/", consumers.StaffChatConsumer.as_asgi()),
]
