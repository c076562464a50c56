"""The channel layer and cache side of chat: group names, staff presence and the broadcasts.

Groups: `chat.conversation.<id>` (the shopper's sockets of one conversation), `chat.staff` (every
staff chat socket: all conversations' messages and presence) and `chat.shoppers` (every shopper
socket: staff presence only). Messages reach the sockets through catalog.live.realtime's
`send_group_messages` (never raises; a failed broadcast is logged, and the page re-syncs from the
database on reconnect).

Presence: a staff socket writes `chat:online:<user id>` into the cache with a time-out of
CHAT_PRESENCE_SECONDS on connect and on every ping (the page pings every 25 s) and deletes it on
disconnect; a process that dies leaves keys that expire on their own. With the Redis cache this
spans every daphne process.
"""
from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.cache import cache
from django.utils import timezone

from catalog.live.realtime import send_group_messages

STAFF_GROUP = "chat.staff"
SHOPPERS_GROUP = "chat.shoppers"


def conversation_group(conversation_id: int) -> str:
    """The group of one conversation's shopper sockets."""
    return f"chat.conversation.{conversation_id}"


def _presence_key(user_id: int) -> str:
    return f"chat:online:{user_id}"


def chat_staff():
    """Active staff users with accounts.handle_chat (superusers included), by name."""
    # The shop's UserManager is a BaseUserManager (no with_perm); the backend's is the same query.
    return (ModelBackend().with_perm("accounts.handle_chat", is_active=True, include_superusers=True)
            .filter(is_staff=True).order_by("first_name", "email"))


def mark_online(user_id: int) -> None:
    """Staff member `user_id` has a chat socket open (refreshes the time-out)."""
    cache.set(_presence_key(user_id), timezone.now().isoformat(), timeout=settings.CHAT_PRESENCE_SECONDS)


def mark_offline(user_id: int) -> None:
    """Staff member `user_id` closed a chat socket. (With two tabs, the other's next ping brings them back.)"""
    cache.delete(_presence_key(user_id))


def online_staff() -> list:
    """The chat staff online now (users; one query and one cache round trip)."""
    staff = list(chat_staff())
    online = cache.get_many([_presence_key(user.pk) for user in staff])
    return [user for user in staff if _presence_key(user.pk) in online]


def presence_event() -> dict:
    """{"type": "presence", "staff_online": number of chat staff online}."""
    return {"type": "presence", "staff_online": len(online_staff())}


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
