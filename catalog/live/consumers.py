"""WebSocket consumers: the public inventory stream and the staff stream.

Consumers only join groups, relay events and answer pings; they never touch the database. The
public stock stream is fed by the process's fan-out hub (catalog/live/fanout.py), not a group per socket.
Protocol (JSON text frames):
- client -> server: {"type": "subscribe", "variants": [ids]} (inventory only, at most
  MAX_SUBSCRIPTIONS ids per connection in all), {"type": "ping"}.
- server -> client: {"type": "stock", ...} (see realtime.stock_payload), {"type": "pong"},
  {"type": "subscribed", "variants": [ids]}, {"type": "error", "detail": "..."};
  staff also get {"type": "order_placed", ...} and {"type": "low_stock", ...}.
A malformed message gets an error reply and leaves the socket open. More than
FLOOD_LIMIT messages within one second closes that socket with code 4429.
"""
import json
import time

from channels.consumer import get_handler_name
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer

from shop.security import loads_json

from . import fanout, realtime

MAX_SUBSCRIPTIONS = 500
FLOOD_LIMIT = 20  # messages per FLOOD_WINDOW seconds
FLOOD_WINDOW = 1.0
CLOSE_FLOODING = 4429
CLOSE_FORBIDDEN = 4403


class StreamConsumer(AsyncWebsocketConsumer):
    """Shared behaviour: connection counting, flood limit, JSON parsing, ping/pong, relaying."""

    stream = ""

    async def connect(self) -> None:
        self.counted = False
        self.window_started, self.window_count = time.monotonic(), 0
        # Counted before the accept, so that a client whose socket is open is already counted.
        await realtime.connection_opened(self.stream)
        self.counted = True
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if getattr(self, "counted", False):
            await realtime.connection_closed(self.stream)
            self.counted = False

    def _flooding(self) -> bool:
        now = time.monotonic()
        if now - self.window_started >= FLOOD_WINDOW:
            self.window_started, self.window_count = now, 0
        self.window_count += 1
        return self.window_count > FLOOD_LIMIT

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if getattr(self, "closing", False):
            return  # frames still in flight after we closed
        if self._flooding():
            self.closing = True
            await self.close(code=CLOSE_FLOODING)
            return
        try:  # nesting, NUL and lone surrogates are refused like any malformed frame (shop.security)
            message = loads_json(text_data) if text_data is not None else None
        except ValueError:
            message = None
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            await self.send_error('Send a JSON object with a "type", e.g. {"type": "ping"}.')
            return
        if message["type"] == "ping":
            await self.send_json({"type": "pong"})
            return
        await self.handle(message)

    async def handle(self, message: dict) -> None:
        """Handle a message type other than ping. The default refuses it."""
        await self.send_error(f"Unknown message type {message['type']!r}.")

    async def dispatch(self, message: dict) -> None:
        # Channels would first hop to a thread to close stale database connections before every
        # handler (channels#2090): one queued thread hop per socket per relayed message, and three
        # on each socket's way in and out (benchmarks/README.md). These consumers never touch the
        # database (AuthMiddleware has loaded the user before), so call the handler directly.
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_json(self, content: dict) -> None:
        await self.send(text_data=json.dumps(content))

    async def send_error(self, detail: str) -> None:
        await self.send_json({"type": "error", "detail": detail})

    async def relay(self, event: dict) -> None:
        """A group message from realtime.send_group_messages: pass its payload on."""
        await self.send_json(event["payload"])


class InventoryConsumer(StreamConsumer):
    """/ws/inventory/: anyone may connect and subscribe to variants' stock.

    A socket has no channel of its own and joins no group: the process's fan-out hub
    (catalog/live/fanout.py) is in each variant's group once and writes its stock messages here."""

    stream = "inventory"
    channel_layer_alias = None  # no per-socket channel (get_channel_layer(None) is None)

    subscribed: set[int] = frozenset()
    hub: fanout.Hub | None = None

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:  # however the consumer ends (disconnect, error, cancellation), leave the hub
            if self.hub is not None:
                await self.hub.unsubscribe(self, [realtime.stock_group(v) for v in self.subscribed])

    async def connect(self) -> None:
        self.subscribed = set()
        self.frame_send = fanout.frame_sender(self.base_send)
        await super().connect()

    async def handle(self, message: dict) -> None:
        if message["type"] != "subscribe":
            await super().handle(message)
            return
        ids = message.get("variants")
        if not isinstance(ids, list) or not all(type(i) is int and i > 0 for i in ids):
            await self.send_error('"variants" must be a list of positive whole numbers (variant ids).')
            return
        new = set(ids) - self.subscribed
        if len(self.subscribed) + len(new) > MAX_SUBSCRIPTIONS:
            await self.send_error(f"At most {MAX_SUBSCRIPTIONS} variants per connection; "
                                  f"{len(self.subscribed)} already subscribed.")
            return
        if new:
            self.hub = self.hub or fanout.get_hub()
            self.subscribed |= new
            if self.hub is not None:
                await self.hub.subscribe(self, [realtime.stock_group(v) for v in sorted(new)])
        await self.send_json({"type": "subscribed", "variants": sorted(self.subscribed)})


class StaffConsumer(StreamConsumer):
    """/ws/staff/: the live feed of the /staff/ dashboard (new orders and low stock), for the staff
    who may see that dashboard (`accounts.view_dashboard`, the Analysts role); others are closed
    with 4403."""

    stream = "staff"

    async def connect(self) -> None:
        user = self.scope.get("user")
        if (user is None or not user.is_authenticated or not user.is_staff
                or not await database_sync_to_async(user.has_perm)("accounts.view_dashboard")):
            self.closing = True  # frames already in flight are ignored, not parsed
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        await self.channel_layer.group_add(realtime.STAFF_GROUP, self.channel_name)
        await super().connect()

    async def disconnect(self, code: int) -> None:
        await self.channel_layer.group_discard(realtime.STAFF_GROUP, self.channel_name)
        await super().disconnect(code)
