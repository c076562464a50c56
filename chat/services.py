"""Support chat's writes: start, post, read, assign, transfer, close, attach an order, and the guest's
conversation following them at login.

Every message is stored before it is broadcast: the broadcast (chat.live) runs after commit, so a
socket that missed it finds the message in the database on reconnect. Emails (a staff reply to a
shopper who wrote while no staff was online, the transcript on closing) are outbox messages
written in the same transaction (chat.emails sends them).

Errors are ChatError subclasses with a message fit to show the user.
"""
from functools import partial

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from orders.models import Order
from outbox.services import enqueue

from . import live
from .models import Conversation, Message

SESSION_KEY = "chat_conversation"  # the guest's conversation id, in their (server-side) session


class ChatError(ValueError):
    """A chat action refused; str() is the reason, fit to show the user."""


class InvalidMessage(ChatError):
    """Empty, too long, or containing characters a message may not have."""


class RateLimited(ChatError):
    """Too many messages in too short a time."""


class ConversationClosed(ChatError):
    """The conversation is closed; staff cannot write into it."""


class NotAllowed(ChatError):
    """The user may not do this (an order that is not theirs, a transfer to non-chat staff)."""


def clean_body(body) -> str:
    """The message text, stripped. Raises InvalidMessage when it is not a string, is empty, is longer
    than settings.CHAT_MAX_MESSAGE_LENGTH characters or holds NUL or other control characters (tab
    and newlines are fine)."""
    if not isinstance(body, str):
        raise InvalidMessage('"body" must be text.')
    body = body.strip()
    if not body:
        raise InvalidMessage("Write a message first.")
    if len(body) > settings.CHAT_MAX_MESSAGE_LENGTH:
        raise InvalidMessage(f"A message can be at most {settings.CHAT_MAX_MESSAGE_LENGTH} characters "
                             f"(this one has {len(body)}).")
    if any(ord(c) < 32 and c not in "\t\n\r" for c in body) or any(0xD800 <= ord(c) <= 0xDFFF for c in body):
        raise InvalidMessage("The message contains characters that cannot be sent.")
    return body


def _check_guest_rate(conversation: Conversation) -> None:
    """Per-conversation limit for guests (settings.CHAT_GUEST_RATE_LIMIT), over every socket and
    the contact form: a fixed window counted in the cache. Raises RateLimited."""
    count, seconds = settings.CHAT_GUEST_RATE_LIMIT
    window = int(timezone.now().timestamp()) // seconds
    key = f"chat:rate:{conversation.pk}:{window}"
    cache.add(key, 0, timeout=seconds + 1)
    try:
        used = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=seconds + 1)
        used = 1
    if used > count:
        raise RateLimited(f"Too many messages: at most {count} every {seconds} seconds. Please wait a moment.")


@transaction.atomic
def start_conversation(*, customer, session: SessionBase | None, body: str, email: str = "") -> Conversation:
    """A new open conversation with the shopper's first message. A guest's (no `customer`) id is
    kept in `session`, which is how their pages and sockets find it. Raises InvalidMessage."""
    body = clean_body(body)
    customer = customer if customer is not None and customer.is_authenticated else None
    if session is not None and session.session_key is None:
        session.save()  # a guest's first write: give them a session (and so a cookie)
    conversation = Conversation.objects.create(
        customer=customer, email=email or "", session_key=session.session_key if session is not None else "")
    if customer is None and session is not None:
        session[SESSION_KEY] = conversation.pk
    post_message(conversation=conversation, author=Message.Author.SHOPPER, user=customer, body=body)
    return conversation


@transaction.atomic
def post_message(*, conversation: Conversation, author: str, body: str, user=None) -> Message:
    """Store a message (`author`: Message.Author) and broadcast it after commit.

    Nothing is written into a closed conversation: a shopper's next message goes through
    `shopper_message`, which starts a new one. A shopper writing while no staff member is online
    sets `email_replies`, so that the staff's replies also go out by email (outbox kind
    "chat.reply_email"). Raises InvalidMessage, RateLimited (a guest's conversation over
    CHAT_GUEST_RATE_LIMIT) and ConversationClosed."""
    body = clean_body(body)
    if author not in Message.Author.values:
        raise InvalidMessage(f"Unknown author {author!r}.")
    conversation = Conversation.objects.select_for_update().get(pk=conversation.pk)
    now = timezone.now()
    updates = {"last_message_at": now}
    if not conversation.is_open:
        raise ConversationClosed("This conversation is closed.")
    if author == Message.Author.SHOPPER:
        if conversation.customer_id is None:
            _check_guest_rate(conversation)
        updates["email_replies"] = not live.online_count()
    message = Message.objects.create(conversation=conversation, author=author, author_user=user, body=body)
    if author == Message.Author.SHOPPER:
        updates["shopper_last_read"] = message.pk
    else:
        updates["staff_last_read"] = message.pk
        if conversation.first_response_at is None:
            updates["first_response_at"] = now
        if conversation.assigned_to_id is None and user is not None:
            updates["assigned_to"] = user
        if conversation.email_replies and conversation.reply_to:
            enqueue(kind="chat.reply_email", payload={"message_id": message.pk})
    Conversation.objects.filter(pk=conversation.pk).update(**updates)
    transaction.on_commit(partial(live.broadcast_message, message))
    return message


def shopper_message(*, conversation: Conversation | None, customer, session: SessionBase | None, body: str,
                    email: str = "") -> Message:
    """The shopper's message into their open conversation, or a new conversation when they have
    none (or it was closed, even since `conversation` was read). Returns the stored message, its
    `conversation` loaded. Raises what post_message raises."""
    if conversation is not None:
        conversation.refresh_from_db(fields=["status", "email"])  # a socket holds it for long
    if conversation is None or not conversation.is_open:
        email = email or (conversation.email if conversation is not None else "")  # a guest's address carries over
        conversation = start_conversation(customer=customer, session=session, body=body, email=email)
        return conversation.messages.get()
    if session is not None and session.session_key and conversation.customer_id is None:
        Conversation.objects.filter(pk=conversation.pk).update(session_key=session.session_key)
    return post_message(conversation=conversation, author=Message.Author.SHOPPER,
                        user=customer if customer is not None and customer.is_authenticated else None, body=body)


def mark_read(*, conversation: Conversation, author: str, up_to: int) -> None:
    """The shopper (`author` "shopper") or staff have seen the conversation's messages up to id `up_to`
    (markers only move forward)."""
    field = "shopper_last_read" if author == Message.Author.SHOPPER else "staff_last_read"
    Conversation.objects.filter(pk=conversation.pk, **{f"{field}__lt": up_to}).update(**{field: up_to})


def _set(conversation: Conversation, **fields) -> Conversation:
    for name, value in fields.items():
        setattr(conversation, name, value)
    conversation.save(update_fields=[*fields])
    transaction.on_commit(partial(live.broadcast_status, conversation))
    return conversation


@transaction.atomic
def assign(*, conversation: Conversation, staff) -> Conversation:
    """Give the conversation to `staff` (also how it is transferred). Raises NotAllowed when
    `staff` may not answer chat (accounts.handle_chat)."""
    if not (staff.is_active and staff.is_staff and staff.has_perm("accounts.handle_chat")):
        raise NotAllowed(f"{staff} cannot answer chat.")
    return _set(conversation, assigned_to=staff)


@transaction.atomic
def close(*, conversation: Conversation, email_transcript: bool = False) -> Conversation:
    """Close the conversation; with `email_transcript`, the whole transcript goes to the shopper
    (outbox kind "chat.transcript_email"; nothing when no address is known). Closing twice is harmless."""
    if not conversation.is_open:
        return conversation
    if email_transcript and conversation.reply_to:
        enqueue(kind="chat.transcript_email", payload={"conversation_id": conversation.pk})
    return _set(conversation, status=Conversation.Status.CLOSED, closed_at=timezone.now())


@transaction.atomic
def reopen(*, conversation: Conversation) -> Conversation:
    """Open a closed conversation again (staff)."""
    return _set(conversation, status=Conversation.Status.OPEN, closed_at=None)


def attach_order(*, conversation: Conversation, customer, order_id: int) -> Conversation:
    """Attach the customer's order `order_id` to their conversation. Raises NotAllowed when the
    shopper is a guest, the conversation is not theirs or the order is not theirs."""
    if customer is None or not customer.is_authenticated or conversation.customer_id != customer.pk:
        raise NotAllowed("Log in to attach one of your orders.")
    order = Order.objects.filter(pk=order_id, customer=customer).first()
    if order is None:
        raise NotAllowed("That order is not one of yours.")
    return _set(conversation, order=order)


def follow_login(*, session: SessionBase, user) -> int:
    """At login: the guest conversation in `session` becomes `user`'s. Returns how many moved (0 or 1)."""
    conversation_id = session.get(SESSION_KEY)
    if not conversation_id:
        return 0
    return Conversation.objects.filter(pk=conversation_id, customer__isnull=True).update(customer=user)
