"""Support chat over WebSockets, as browsers would see it: the real ASGI application (origin check,
session auth, URL router, consumers) through channels' WebsocketCommunicator, on the in-memory
layer and on channels-redis (the `layer` fixture of catalog/tests/test_consumers.py). Messages go
through the real services, committed (transaction=True), since the broadcast runs after commit."""
from contextlib import asynccontextmanager

import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.test import Client

from accounts.tests.factories import AnalystFactory, UserFactory
from catalog.tests.test_consumers import ALLOWED_ORIGIN, async_test, db, session_cookie
from chat import services
from chat.models import Conversation, Message
from shop.asgi import application

from .factories import ChatStaffFactory

pytestmark = pytest.mark.django_db(transaction=True)

SHOPPER = "/ws/chat/"
STAFF = "/ws/staff/chat/"
TIMEOUT = 3
QUIET = 0.3


def guest_with_conversation(body: str = "Where is my parcel?") -> tuple[tuple[bytes, bytes], Conversation]:
    """A guest browser that started a conversation through the contact form: its Cookie header and
    the conversation."""
    client = Client()
    response = client.post("/chat/", {"email": "guest@example.com", "body": body})
    assert response.status_code == 302, response.content
    name = django_settings.SESSION_COOKIE_NAME
    conversation = Conversation.objects.get(pk=client.session[services.SESSION_KEY])
    return (b"cookie", f"{name}={client.cookies[name].value}".encode()), conversation


@asynccontextmanager
async def ws(path: str, *, cookie=None, query: str = ""):
    headers = [(b"origin", ALLOWED_ORIGIN)] + ([cookie] if cookie else [])
    client = WebsocketCommunicator(application, path + query, headers=headers)
    connected, code = await client.connect(timeout=TIMEOUT)
    assert connected, f"{path} refused ({code})"
    try:
        yield client
    finally:
        await client.disconnect(timeout=TIMEOUT)


async def receive(client, type_: str, skip: tuple[str, ...] = ("presence",)) -> dict:
    """The next message of type `type_` (those of the `skip` types in between are passed over)."""
    while True:
        message = await client.receive_json_from(timeout=TIMEOUT)
        if message["type"] == type_:
            return message
        assert message["type"] in skip, message


async def close_code(path: str, cookie=None) -> int:
    headers = [(b"origin", ALLOWED_ORIGIN)] + ([cookie] if cookie else [])
    client = WebsocketCommunicator(application, path, headers=headers)
    connected, code = await client.connect(timeout=TIMEOUT)
    if not connected:
        return code
    output = await client.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    await client.disconnect(timeout=TIMEOUT)
    return output["code"]


@async_test
async def test_guest_and_staff_exchange_messages(layer):
    cookie, conversation = await db(guest_with_conversation)
    staff = await db(ChatStaffFactory)
    async with ws(STAFF, cookie=await db(session_cookie, staff)) as staff_socket:
        snapshot = await receive(staff_socket, "snapshot")
        assert snapshot["staff_online"] == 1 and snapshot["messages"] == []
        async with ws(SHOPPER, cookie=cookie) as guest:
            snapshot = await receive(guest, "snapshot")
            assert snapshot["conversation"] == conversation.pk
            assert [m["body"] for m in snapshot["messages"]] == ["Where is my parcel?"]
            assert snapshot["staff_online"] == 1

            await guest.send_json_to({"type": "message", "body": "Order 1001, please"})
            heard = await receive(staff_socket, "message")
            assert set(heard) == {"type", "conversation", "id", "author", "body", "ts"}
            assert (heard["conversation"], heard["author"], heard["body"]) == (conversation.pk, "shopper",
                                                                                "Order 1001, please")
            assert (await receive(guest, "message"))["id"] == heard["id"]  # the shopper's own echo

            await staff_socket.send_json_to({"type": "message", "conversation": conversation.pk,
                                             "body": "It left today: https://track.example/1"})
            reply = await receive(guest, "message")
            assert (reply["author"], reply["body"]) == ("staff", "It left today: https://track.example/1")
            assert (await receive(staff_socket, "message"))["id"] == reply["id"]
    stored = await db(lambda: list(Message.objects.filter(conversation=conversation).values_list("author", "body")))
    assert stored == [("shopper", "Where is my parcel?"), ("shopper", "Order 1001, please"),
                      ("staff", "It left today: https://track.example/1")]
    refreshed = await db(Conversation.objects.get, pk=conversation.pk)
    assert refreshed.first_response_at is not None and refreshed.assigned_to_id == staff.pk


@async_test
async def test_second_guest_cannot_read_or_post_into_the_first_guests_conversation(layer):
    first_cookie, first = await db(guest_with_conversation, "My secret address is 1 Elm St")
    second_cookie, second = await db(guest_with_conversation, "Hi")
    async with ws(SHOPPER, cookie=first_cookie) as victim, \
            ws(SHOPPER, cookie=second_cookie, query=f"?conversation={first.pk}&since=0") as intruder:
        await receive(victim, "snapshot")
        snapshot = await receive(intruder, "snapshot")
        # The id in the URL is ignored: the socket is on the second guest's own conversation.
        assert snapshot["conversation"] == second.pk
        assert "1 Elm St" not in str(snapshot)
        # Naming the first conversation in a message does not write into it either.
        await intruder.send_json_to({"type": "message", "conversation": first.pk, "body": "Injected"})
        echo = await receive(intruder, "message")
        assert echo["conversation"] == second.pk
        assert await victim.receive_nothing(timeout=QUIET)
    # A guest without a session, and one without a conversation, cannot reach it at all.
    async with ws(SHOPPER, query=f"?conversation={first.pk}") as stranger:
        assert (await receive(stranger, "snapshot"))["conversation"] is None
        await stranger.send_json_to({"type": "message", "body": "Injected"})
        assert (await receive(stranger, "error"))["detail"]
    bodies = await db(lambda: list(first.messages.values_list("body", flat=True)))
    assert bodies == ["My secret address is 1 Elm St"]


@async_test
async def test_staff_socket_refuses_customers_and_staff_without_the_permission(layer):
    customer = await db(UserFactory)
    analyst = await db(AnalystFactory)  # staff, but not chat staff
    assert await close_code(STAFF) == 4403
    assert await close_code(STAFF, await db(session_cookie, customer)) == 4403
    assert await close_code(STAFF, await db(session_cookie, analyst)) == 4403


@async_test
async def test_a_flood_is_closed(layer):
    cookie, _ = await db(guest_with_conversation)
    client = WebsocketCommunicator(application, SHOPPER, headers=[(b"origin", ALLOWED_ORIGIN), cookie])
    assert (await client.connect(timeout=TIMEOUT))[0]
    for _ in range(30):
        await client.send_json_to({"type": "ping"})
    while True:
        output = await client.receive_output(timeout=TIMEOUT)
        if output["type"] == "websocket.close":
            break
    assert output["code"] == 4429
    await client.disconnect(timeout=TIMEOUT)


@async_test
async def test_rate_and_length_limits_answer_with_errors(layer, settings):
    settings.CHAT_RATE_LIMIT = (2, 60)
    settings.CHAT_MAX_MESSAGE_LENGTH = 50
    cookie, conversation = await db(guest_with_conversation)
    async with ws(SHOPPER, cookie=cookie) as guest:
        await receive(guest, "snapshot")
        await guest.send_json_to({"type": "message", "body": 12})
        assert (await receive(guest, "error"))["detail"] == '"body" must be text.'
        await guest.send_json_to({"type": "message", "body": "x" * 51})
        assert "at most 50 characters" in (await receive(guest, "error"))["detail"]
        await guest.send_json_to({"type": "message", "body": "three"})  # refused attempts count
        assert "Too many messages" in (await receive(guest, "error"))["detail"]
    assert await db(conversation.messages.count) == 1


@async_test
async def test_guest_conversation_limit_spans_sockets(layer, settings):
    settings.CHAT_GUEST_RATE_LIMIT = (3, 600)  # the first message (the form's) counts too
    cookie, conversation = await db(guest_with_conversation)
    async with ws(SHOPPER, cookie=cookie) as one, ws(SHOPPER, cookie=cookie) as two:
        await receive(one, "snapshot"), await receive(two, "snapshot")
        await one.send_json_to({"type": "message", "body": "a"})
        await receive(one, "message")
        await two.send_json_to({"type": "message", "body": "b"})
        await two.send_json_to({"type": "message", "body": "c"})
        assert "Too many messages" in (await receive(two, "error", skip=("presence", "message")))["detail"]
    assert await db(conversation.messages.count) == 3


@async_test
async def test_reconnect_replays_missed_messages_from_the_database(layer):
    cookie, conversation = await db(guest_with_conversation)
    staff = await db(ChatStaffFactory)
    async with ws(SHOPPER, cookie=cookie) as guest:
        snapshot = await receive(guest, "snapshot")
        last_seen = snapshot["messages"][-1]["id"]
    # While the shopper is away (no socket), staff answer twice.
    for body in ("First answer", "Second answer"):
        await db(services.post_message, conversation=conversation, author="staff", user=staff, body=body)
    async with ws(SHOPPER, cookie=cookie, query=f"?since={last_seen}") as guest:
        snapshot = await receive(guest, "snapshot")
        assert [(m["author"], m["body"]) for m in snapshot["messages"]] == [
            ("staff", "First answer"), ("staff", "Second answer")]
    # Staff sockets replay too.
    async with ws(STAFF, cookie=await db(session_cookie, staff), query=f"?since={last_seen}") as staff_socket:
        snapshot = await receive(staff_socket, "snapshot")
        assert [m["body"] for m in snapshot["messages"]] == ["First answer", "Second answer"]


@async_test
async def test_staff_presence_reaches_shoppers(layer):
    cookie, _ = await db(guest_with_conversation)
    staff = await db(ChatStaffFactory)
    async with ws(SHOPPER, cookie=cookie) as guest:
        assert (await receive(guest, "snapshot"))["staff_online"] == 0
        async with ws(STAFF, cookie=await db(session_cookie, staff)):
            assert (await guest.receive_json_from(timeout=TIMEOUT)) == {"type": "presence", "staff_online": 1}
        assert (await guest.receive_json_from(timeout=TIMEOUT)) == {"type": "presence", "staff_online": 0}


@async_test
async def test_logged_in_customer_starts_a_conversation_over_the_socket(layer):
    customer = await db(UserFactory)
    async with ws(SHOPPER, cookie=await db(session_cookie, customer)) as page:
        assert (await receive(page, "snapshot"))["conversation"] is None
        await page.send_json_to({"type": "message", "body": "Do you ship to Norway?"})
        message = await receive(page, "message")
    conversation = await db(Conversation.objects.get, customer=customer)
    assert message["conversation"] == conversation.pk


@async_test
async def test_staff_errors_are_replies_not_crashes(layer):
    staff = await db(ChatStaffFactory)
    async with ws(STAFF, cookie=await db(session_cookie, staff)) as staff_socket:
        await receive(staff_socket, "snapshot")
        for frame in ({"type": "message", "conversation": "1", "body": "x"},
                      {"type": "message", "conversation": 99999999, "body": "x"},
                      {"type": "nonsense"}):
            await staff_socket.send_json_to(frame)
            assert (await receive(staff_socket, "error"))["detail"]
        await staff_socket.send_to(text_data="not json")
        assert (await receive(staff_socket, "error"))["detail"]
        await staff_socket.send_json_to({"type": "ping"})
        assert await receive(staff_socket, "pong") == {"type": "pong"}


@async_test
async def test_a_message_after_staff_closed_the_conversation_starts_a_new_one(layer):
    cookie, conversation = await db(guest_with_conversation)
    async with ws(SHOPPER, cookie=cookie) as guest:
        await receive(guest, "snapshot")
        await db(services.close, conversation=conversation)
        assert (await receive(guest, "conversation"))["status"] == "closed"
        await guest.send_json_to({"type": "message", "body": "One more thing"})
        message = await receive(guest, "message")
    assert message["conversation"] != conversation.pk
    assert await db(conversation.messages.count) == 1
    new = await db(Conversation.objects.get, pk=message["conversation"])
    assert (new.email, new.is_open) == ("guest@example.com", True)


@async_test
async def test_open_chat_sockets_are_counted_in_ws_stats(layer):
    cookie, _ = await db(guest_with_conversation)
    staff = await db(ChatStaffFactory, is_superuser=True)  # superusers may read /ws/stats/
    browser = await db(Client)
    await db(browser.force_login, staff)
    before = (await db(browser.get, "/ws/stats/")).json()
    async with ws(SHOPPER, cookie=cookie), ws(STAFF, cookie=await db(session_cookie, staff)):
        during = (await db(browser.get, "/ws/stats/")).json()
    assert during["chat"] == before["chat"] + 1 and during["staff_chat"] == before["staff_chat"] + 1
