"""The fan-out hub: one channel-layer subscription per process for the public stock stream.

Without it every open /ws/inventory/ socket would join the group `stock.<id>` itself, and each
stock change would be received, decoded, JSON-encoded and dispatched once per socket through
Channels' per-consumer machinery (about 90 µs per socket; benchmarks/README.md). Instead, the
hub of an event loop (daphne runs one loop per process) joins each variant group once, with one
channel of its own, receives each stock message once, encodes it once and writes the same text
frame to every local socket subscribed to that variant.

The public protocol does not change (catalog/live/consumers.py). The hub never raises into a
consumer: a channel-layer error is logged and retried in the background, with back-off.
"""
import asyncio
import functools
import json
import logging
from collections.abc import Iterable

from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper

try:
    from daphne.ws_protocol import WebSocketProtocol as DaphneWebSocketProtocol
except ImportError:  # another ASGI server: frames go through its own send
    DaphneWebSocketProtocol = None

logger = logging.getLogger(__name__)

REJOIN_INTERVAL = 3600.0  # seconds: re-add every group well within the layers' 1-day group expiry
RETRY_DELAYS = (0.1, 0.5, 1.0, 2.0, 5.0)  # seconds before the 1st, 2nd, ... retry after a layer error

_hubs: dict[tuple, "Hub"] = {}  # (event loop, channel layer) -> its running hub


def get_hub() -> "Hub | None":
    """The hub of the running event loop and the current channel layer (None if no layer is
    configured). A hub removes itself from here when its last subscriber leaves."""
    layer = get_channel_layer()
    if layer is None:
        return None
    key = (asyncio.get_running_loop(), layer)
    hub = _hubs.get(key)
    if hub is None:
        hub = _hubs[key] = Hub(layer, key)
    return hub


def frame_sender(send):
    """The ASGI `send` the hub uses for a socket's stock frames, as fast as the server allows.

    - Channels' session wrappers (AuthMiddlewareStack) are skipped: they act only on
      `http.response.start` (InstanceSessionWrapper.save_message_types) and pass every other
      message straight to `real_send`, so skipping them changes nothing on the wire.
    - Under daphne, text frames go out through autobahn's PreparedMessage, which autobahn provides
      "for optimizing Broadcast/PubSub": the frame is built once per stock change and its bytes are
      written to every socket, instead of being encoded and framed once per socket
      (autobahn.websocket.protocol.WebSocketProtocol.sendPreparedMessage). Anything else, and any
      socket that is closing, goes through daphne's own send.
    Under other servers (the test communicator), the unwrapped `send` is returned as it is.
    Figures: benchmarks/README.md (ws_fanout.py).
    """
    while isinstance(wrapper := getattr(send, "__self__", None), InstanceSessionWrapper):
        send = wrapper.real_send
    protocol = send.args[0] if isinstance(send, functools.partial) and send.args else None
    if DaphneWebSocketProtocol is None or not isinstance(protocol, DaphneWebSocketProtocol):
        return send
    return _PreparedFrameSender(send, protocol)


_last_prepared: tuple[str | None, object] = (None, None)  # (text, its PreparedMessage): one change at a time


class _PreparedFrameSender:
    """An ASGI send for one daphne WebSocket that writes text frames as shared prepared messages."""

    __slots__ = ("send", "protocol")

    def __init__(self, send, protocol):
        self.send = send
        self.protocol = protocol

    async def __call__(self, message: dict) -> None:
        global _last_prepared
        protocol = self.protocol
        text = message.get("text")
        if message["type"] != "websocket.send" or text is None or protocol.state != protocol.STATE_OPEN:
            await self.send(message)
            return
        last_text, prepared = _last_prepared
        if text is not last_text:
            prepared = protocol.factory.prepareMessage(text.encode(), isBinary=False, doNotCompress=False)
            _last_prepared = (text, prepared)
        # Uncompressed (no extension negotiated: permessage-deflate is autobahn's only one) and
        # nothing queued: the prepared bytes are the frame, as sendPreparedMessage would send them.
        if not protocol.websocket_extensions_in_use and not protocol.send_queue:
            _write_now(protocol.transport, prepared.payloadHybi)
        else:
            protocol.sendPreparedMessage(prepared)


def _write_now(transport, data: bytes) -> None:
    """Write `data` to a Twisted TCP transport, trying the socket at once.

    Twisted's `transport.write` only buffers and registers the socket for writability; the bytes go
    out on a later reactor turn (two epoll_ctl calls and a send per socket, per stock change). When
    nothing is queued on the transport, one non-blocking `send` now is equivalent and cheaper; what
    the kernel does not take is handed to `transport.write`, which keeps the order and the
    back-pressure rules.

    Whether anything is queued is read from Twisted's buffers (`dataBuffer`, and `_tempDataBuffer`,
    which has no public equivalent; read, never written). Measured with benchmarks/ws_fanout.py at
    N=1000 (2026-12-08): through sendPreparedMessage alone the server spends 36-40 us per socket and
    change instead of 15, and the last client is 1.5-1.8x the bare server instead of 0.74x. The
    upstream fix is a public "bytes pending" query on Twisted's transports.
    """
    if (hasattr(transport, "writeSomeData") and transport.connected and not transport.disconnecting
            and not transport._tempDataBuffer and not transport.dataBuffer):
        sent = transport.writeSomeData(data)
        if isinstance(sent, int):
            if sent < len(data):
                transport.write(data[sent:])
            return
    transport.write(data)


def _retry_delay(failures: int) -> float:
    return RETRY_DELAYS[min(failures, len(RETRY_DELAYS)) - 1]


class Hub:
    """One event loop's subscriptions: group name -> the local consumers to write its messages to.

    Layer messages are {"type": "relay", "group": <group>, "payload": <dict>} (see
    realtime.send_group_messages); each payload is sent as one JSON text frame.
    """

    def __init__(self, layer, key: tuple):
        self.layer = layer
        self.members: dict[str, set] = {}  # group -> consumers of this loop
        self.joined: set[str] = set()  # groups the hub's channel is in on the layer
        self.channel: str | None = None
        self._key = key
        self._dirty: set[str] = set()  # groups whose layer membership may need changing
        self._lock = asyncio.Lock()  # one membership change on the layer at a time
        self._wake = asyncio.Event()
        self._receiver: asyncio.Task | None = None
        self._keeper: asyncio.Task | None = None

    async def subscribe(self, consumer, groups: Iterable[str]) -> None:
        """Write the messages of `groups` to `consumer` (anything with an ASGI `frame_send`, see
        frame_sender).
        Returns once the hub is in those groups on the layer; never raises on a layer error."""
        for group in groups:
            members = self.members.setdefault(group, set())
            if not members:
                self._dirty.add(group)
            members.add(consumer)
        await self._sync(may_stop=False)

    async def unsubscribe(self, consumer, groups: Iterable[str]) -> None:
        """Stop writing `groups` to `consumer`. The last subscriber of a group makes the hub leave
        it on the layer; the last subscriber of all stops the hub."""
        for group in groups:
            members = self.members.get(group)
            if members is not None and consumer in members:
                members.discard(consumer)
                if not members:
                    del self.members[group]
                    self._dirty.add(group)
        await self._sync(may_stop=True)

    async def _sync(self, *, may_stop: bool) -> bool:
        """Bring the layer's group membership in line with `members`; start the hub's tasks when
        it has subscribers, stop them when it has none. Returns False after a layer error."""
        async with self._lock:
            ok = True
            if self.members and self._keeper is None:
                self._keeper = asyncio.create_task(self._keep())
            try:
                if self.members and self.channel is None:
                    self.channel = await self.layer.new_channel()
                    self._receiver = asyncio.create_task(self._receive())
                while self._dirty:
                    group = self._dirty.pop()
                    try:
                        if group in self.members:
                            await self.layer.group_add(group, self.channel)
                            self.joined.add(group)
                        elif group in self.joined:
                            await self.layer.group_discard(group, self.channel)
                            self.joined.discard(group)
                    except BaseException:
                        self._dirty.add(group)
                        raise
            except Exception:  # noqa: BLE001 - Redis down, timeouts: retried by _keep, never raised
                logger.exception("Live stock: the channel layer failed; retrying in the background")
                self._wake.set()
                ok = False
            if may_stop and not self.members:
                await self._stop()
            return ok

    async def _stop(self) -> None:
        if _hubs.get(self._key) is self:
            del _hubs[self._key]
        tasks = [task for task in (self._receiver, self._keeper) if task is not None]
        self._receiver = self._keeper = self.channel = None
        self.joined.clear()
        self._dirty.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep(self) -> None:
        """Retry failed membership changes with back-off; re-add every group each REJOIN_INTERVAL."""
        failures = 0
        while True:
            if failures:
                await asyncio.sleep(_retry_delay(failures))
            else:
                try:
                    async with asyncio.timeout(REJOIN_INTERVAL):
                        await self._wake.wait()
                except TimeoutError:
                    self._dirty |= self.joined
            self._wake.clear()
            failures = 0 if await self._sync(may_stop=False) else failures + 1

    async def _receive(self) -> None:
        """The hub's one receive loop: each message is encoded once and written to every local
        subscriber of its group."""
        failures = 0
        while True:
            try:
                message = await self.layer.receive(self.channel)
            except Exception:  # noqa: BLE001
                failures += 1
                logger.exception("Live stock: receiving from the channel layer failed (attempt %d)", failures)
                self._dirty |= self.joined  # the layer may have lost our groups (a Redis restart)
                self._wake.set()
                await asyncio.sleep(_retry_delay(failures))
                continue
            failures = 0
            consumers = self.members.get(message.get("group"))
            if not consumers:
                continue
            frame = {"type": "websocket.send", "text": json.dumps(message["payload"])}
            for consumer in list(consumers):
                try:
                    await consumer.frame_send(frame)
                except Exception:  # noqa: BLE001 - one broken socket must not cost the others their update
                    logger.warning("Live stock: writing to one socket failed", exc_info=True)
