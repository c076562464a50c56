"""The channel layer and cache side of chat: group names, staff presence and the broadcasts.

Groups: `chat.conversation.<id>` (the shopper's sockets of one conversation), `chat.staff` (every
staff chat socket: all conversations' messages and presence) and `chat.shoppers` (every shopper
socket: staff presence only). Messages reach the sockets through catalog.live.realtime's
`send_group_messages` (never raises; a failed broadcast is logged, and the page re-syncs from the
database on reconnect).

Presence: one cache entry (`chat:online`) maps each online staff member to an expiry
CHAT_PRESENCE_SECONDS ahead, renewed on connect and by the page's pings (every 25 s) and removed on
disconnect; a process that dies leaves entries that expire on their own. With the Redis cache this
spans every daphne process, and a shopper's socket learns the count without a database query.
"""
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache

from catalog.live.realtime import send_group_messages

STAFF_GROUP = "chat.staff"
SHOPPERS_GROUP = "chat.shoppers"


def conversation_group(conversation_id: int) -> str:
    """The group of one conversation's shopper sockets."""
    return f"chat.conversation.{conversation_id}"


PRESENCE_KEY = "chat:online"


def chat_staff():
    """Active staff users with accounts.handle_chat (superusers included), by name."""
    # The shop's UserManager is a BaseUserManager (no with_perm); the backend's is the same query.
    return (ModelBackend().with_perm("accounts.handle_chat", is_active=True, include_superusers=True)
            .filter(is_staff=True).order_by("first_name", "email"))


def _online_ids(now: float) -> dict[str, float]:
    """{user id (str): expiry (epoch seconds)} of the staff online at `now`."""
    entries = cache.get(PRESENCE_KEY) or {}
    return {user_id: expiry for user_id, expiry in entries.items() if expiry > now}


def mark_online(user_id: int) -> None:
    """Staff member `user_id` has a chat socket open, for the next CHAT_PRESENCE_SECONDS.

    One cache entry holds everyone (read, change, write): two staff arriving in the same
    millisecond may lose one entry, which their next ping (every 25 s) writes again."""
    now, ttl = time.time(), settings.CHAT_PRESENCE_SECONDS
    entries = _online_ids(now)
    entries[str(user_id)] = now + ttl
    cache.set(PRESENCE_KEY, entries, timeout=ttl)


def mark_offline(user_id: int) -> None:
    """Staff member `user_id` closed a chat socket. (With two tabs, the other's next ping brings them back.)"""
    now = time.time()
    entries = _online_ids(now)
    if entries.pop(str(user_id), None) is not None:
        cache.set(PRESENCE_KEY, entries, timeout=max(1, int(max(entries.values(), default=now) - now) + 1))


def online_count() -> int:
    """How many chat staff are online now (one cache read, no query)."""
    return len(_online_ids(time.time()))


def online_staff() -> list:
    """The chat staff online now (users, by name; one cache read and one query)."""
    ids = [int(user_id) for user_id in _online_ids(time.time())]
    return list(chat_staff().filter(pk__in=ids)) if ids else []


def presence_event() -> dict:
    """{"type": "presence", "staff_online": number of chat staff online}."""
    return {"type": "presence", "staff_online": online_count()}


def broadcast_presence() -> bool:
    """Tell every shopper and staff socket how many staff are online now."""
    event = presence_event()
    return send_group_messages([(SHOPPERS_GROUP, event), (STAFF_GROUP, event)])


def broadcast_message(message) -> bool:
    """Send a stored chat.models.Message to its conversation's shopper sockets and to staff. Call it
    after commit (the message is in the database first, so a reconnect replays it)."""
    event = message.as_event()
    return send_group_messages([(conversation_group(message.conversation_id), event), (STAFF_GROUP, event)])


def broadcast_status(conversation) -> bool:
    """Tell the conversation's shopper and staff its new state: {"type": "conversation",
    "conversation", "status", "assigned_to" (staff user id or null)}."""
    event = {"type": "conversation", "conversation": conversation.pk, "status": conversation.status,
             "assigned_to": conversation.assigned_to_id}
    return send_group_messages([(conversation_group(conversation.pk), event), (STAFF_GROUP, event)])
