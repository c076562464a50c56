"""Support chat sockets, on the inventory sockets' base (catalog.live.consumers.StreamConsumer:
JSON parsing, ping/pong, errors, close 4429 on a flood of more than 20 frames a second).

/ws/chat/ (ShopperChatConsumer): the shopper's own conversation only, found from the session's
user or the guest session (chat.selectors.shopper_conversation); an id the client sends is never
used. /ws/staff/chat/ (StaffChatConsumer): staff with accounts.handle_chat; others are closed 4403.

Protocol (JSON text frames), beside ping/pong and {"type": "error", "detail"}:
- shopper -> server: {"type": "message", "body"}, {"type": "read", "id"};
- staff -> server:   {"type": "message", "conversation", "body"}, {"type": "read", "conversation", "id"};
- server -> both:    {"type": "message", "conversation", "id", "author": "shopper" | "staff", "body", "ts"},
                     {"type": "presence", "staff_online": n},
                     {"type": "conversation", "conversation", "status", "assigned_to"};
- on connect:        {"type": "snapshot", ...}: the shopper's {"conversation" (id or null), "status",
                     "staff_online", "messages"}, staff's {"staff_online", "messages"}; "messages"
                     are those after `?since=<message id>` (the shopper's: all when not given; staff's:
                     none when not given), so a reconnect replays what it missed from the database.
Messages go through chat.services (stored, then broadcast after commit). More than CHAT_RATE_LIMIT
messages on one socket get an error reply each; a guest's conversation is limited as a whole too.
"""
import time
from collections import deque
from urllib.parse import parse_qs

from asgiref.sync import sync_to_async
from channels.db import database_sync_to_async
from django.conf import settings

from catalog.live.consumers import CLOSE_FORBIDDEN, StreamConsumer

from . import live, selectors, services
from .models import Conversation, Message


def _since(scope) -> int | None:
    """The ?since=<message id> of the socket's URL, or None (absent or not a whole number)."""
    values = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("since")
    if values and values[0].isdigit():
        return int(values[0])
    return None


class ChatConsumer(StreamConsumer):
    """Shared: the per-socket message rate limit."""

    def rate_limited(self) -> bool:
        """Whether one more message now would exceed CHAT_RATE_LIMIT on this socket (counts it if not)."""
        count, seconds = settings.CHAT_RATE_LIMIT
        now = time.monotonic()
        sent = self.__dict__.setdefault("sent_times", deque())
        while sent and now - sent[0] >= seconds:
            sent.popleft()
        if len(sent) >= count:
            return True
        sent.append(now)
        return False

    async def send_rate_error(self) -> None:
        """Tell the client it is over CHAT_RATE_LIMIT (the socket stays open)."""
        count, seconds = settings.CHAT_RATE_LIMIT
        await self.send_error(f"Too many messages: at most {count} every {seconds} seconds.")


class ShopperChatConsumer(ChatConsumer):
    """/ws/chat/: a shopper's (customer's or guest's) socket on their own conversation."""

    stream = "chat"
    conversation: Conversation | None = None

    async def connect(self) -> None:
        """Join the presence group and the shopper's conversation group, accept, send the snapshot."""
        await self.channel_layer.group_add(live.SHOPPERS_GROUP, self.channel_name)
        if self._stranger():  # no login, no session: nothing to look up (and no database connection)
            await super().connect()
            staff_online = await sync_to_async(live.online_count, thread_sensitive=False)()
            await self.send_json({"type": "snapshot", "conversation": None, "status": None,
                                  "staff_online": staff_online, "messages": []})
            return
        self.conversation = await database_sync_to_async(self._find_conversation)()
        if self.conversation is not None:
            await self.channel_layer.group_add(live.conversation_group(self.conversation.pk), self.channel_name)
        await super().connect()
        await self.send_json(await database_sync_to_async(self._snapshot)(_since(self.scope) or 0))

    async def disconnect(self, code: int) -> None:
        """Leave the groups."""
        await self.channel_layer.group_discard(live.SHOPPERS_GROUP, self.channel_name)
        if self.conversation is not None:
            await self.channel_layer.group_discard(live.conversation_group(self.conversation.pk), self.channel_name)
        await super().disconnect(code)

    def _user(self):
        user = self.scope.get("user")
        return user if user is not None and user.is_authenticated else None

    def _stranger(self) -> bool:
        """No user and no session cookie: this socket has no conversation and cannot start one."""
        session = self.scope.get("session")
        return self._user() is None and (session is None or session.session_key is None)

    def _find_conversation(self) -> Conversation | None:
        return selectors.shopper_conversation(customer=self._user(), session=self.scope.get("session"))

    def _snapshot(self, since: int) -> dict:
        conversation = self.conversation
        messages = selectors.messages_since(conversation, since) if conversation is not None else []
        if messages:
            services.mark_read(conversation=conversation, author=Message.Author.SHOPPER, up_to=messages[-1].pk)
        return {"type": "snapshot", "conversation": conversation.pk if conversation else None,
                "status": conversation.status if conversation else None,
                "staff_online": live.online_count(), "messages": [m.as_event() for m in messages]}

    def _post(self, body) -> tuple[Message, Conversation]:
        session, user = self.scope.get("session"), self._user()
        message = services.shopper_message(conversation=self.conversation, customer=user, session=session, body=body)
        if session is not None and session.modified:
            session.save()  # a new guest conversation's id, for this browser's next pages and sockets
        return message, message.conversation  # read here, in the database thread

    async def handle(self, message: dict) -> None:
        """{"type": "message", "body"}: store and broadcast it (a new conversation when there is
        none open); {"type": "read", "id"}: move the shopper's read marker. Errors are replies."""
        if message["type"] == "read":
            if self.conversation is not None and type(message.get("id")) is int:
                await database_sync_to_async(services.mark_read)(
                    conversation=self.conversation, author=Message.Author.SHOPPER, up_to=message["id"])
            return
        if message["type"] != "message":
            await super().handle(message)
            return
        if self.rate_limited():
            await self.send_rate_error()
            return
        if self._stranger():
            await self.send_error("Start the conversation with the form first (we need your email address).")
            return
        try:
            stored, conversation = await database_sync_to_async(self._post)(message.get("body"))
        except services.ChatError as error:
            await self.send_error(str(error))
            return
        if self.conversation is None or conversation.pk != self.conversation.pk:
            # A new conversation: its broadcast went out before this socket was in its group.
            if self.conversation is not None:
                await self.channel_layer.group_discard(live.conversation_group(self.conversation.pk),
                                                       self.channel_name)
            self.conversation = conversation
            await self.channel_layer.group_add(live.conversation_group(stored.conversation_id), self.channel_name)
            await self.send_json(stored.as_event())


class StaffChatConsumer(ChatConsumer):
    """/ws/staff/chat/: every conversation's messages and staff presence, for staff with
    accounts.handle_chat; the socket's user counts as online while it is open (chat.live)."""

    stream = "staff_chat"
    presence_at = 0.0

    async def connect(self) -> None:
        """Refuse (4403) anyone without accounts.handle_chat; else join, count as online, snapshot."""
        user = self.scope.get("user")
        if (user is None or not user.is_authenticated or not user.is_staff
                or not await database_sync_to_async(user.has_perm)("accounts.handle_chat")):
            self.closing = True
            await self.accept()
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.user = user
        await self.channel_layer.group_add(live.STAFF_GROUP, self.channel_name)
        await super().connect()
        await database_sync_to_async(self._arrive)()
        await self.send_json(await database_sync_to_async(self._snapshot)(_since(self.scope)))

    async def disconnect(self, code: int) -> None:
        """Leave the group and count as offline (tell the shoppers)."""
        if getattr(self, "user", None) is not None:
            await self.channel_layer.group_discard(live.STAFF_GROUP, self.channel_name)
            await database_sync_to_async(self._leave)()
            await super().disconnect(code)

    def _arrive(self) -> None:
        live.mark_online(self.user.pk)
        self.presence_at = time.monotonic()
        live.broadcast_presence()

    def _leave(self) -> None:
        live.mark_offline(self.user.pk)
        live.broadcast_presence()

    def _snapshot(self, since: int | None) -> dict:
        messages = selectors.staff_messages_since(since) if since is not None else []
        return {"type": "snapshot", "staff_online": live.online_count(),
                "messages": [m.as_event() for m in messages]}

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        """Renew presence at most every CHAT_PRESENCE_SECONDS / 3, then handle the frame as usual."""
        # Any frame (the page pings every 25 s) keeps this staff member online.
        if not getattr(self, "closing", False) and time.monotonic() - self.presence_at > settings.CHAT_PRESENCE_SECONDS / 3:
            self.presence_at = time.monotonic()
            await database_sync_to_async(live.mark_online)(self.user.pk)
        await super().receive(text_data=text_data, bytes_data=bytes_data)

    def _post(self, conversation_id: int, body) -> Message:
        conversation = selectors.conversation_for_staff(conversation_id)
        if conversation is None:
            raise services.ChatError(f"No conversation {conversation_id}.")
        return services.post_message(conversation=conversation, author=Message.Author.STAFF, user=self.user, body=body)

    def _read(self, conversation_id: int, up_to: int) -> None:
        conversation = Conversation.objects.filter(pk=conversation_id).first()
        if conversation is not None:
            services.mark_read(conversation=conversation, author=Message.Author.STAFF, up_to=up_to)

    async def handle(self, message: dict) -> None:
        """{"type": "message", "conversation", "body"}: a staff reply; {"type": "read",
        "conversation", "id"}: staff have seen it. Errors are replies."""
        if message["type"] not in ("message", "read"):
            await super().handle(message)
            return
        conversation_id = message.get("conversation")
        if type(conversation_id) is not int or conversation_id < 1:
            await self.send_error('"conversation" must be a conversation id (a positive whole number).')
            return
        if message["type"] == "read":
            if type(message.get("id")) is int:
                await database_sync_to_async(self._read)(conversation_id, message["id"])
            return
        if self.rate_limited():
            await self.send_rate_error()
            return
        try:
            await database_sync_to_async(self._post)(conversation_id, message.get("body"))
        except services.ChatError as error:
            await self.send_error(str(error))
