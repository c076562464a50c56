"""Live inventory over WebSockets, as a browser would see it.

Every test drives the real ASGI application (`shop.asgi.application`: origin check, session auth,
URL router, consumers) with `channels.testing.WebsocketCommunicator`, once on the in-memory
channel layer and once on channels-redis (the `layer` fixture below). Stock changes go
through the real services (`place_order`, `cancel_order`, `set_stock`) in `transaction=True` tests,
because the broadcast is sent from `transaction.on_commit` and only a real commit fires it.

pytest-asyncio is not installed: each test is an `async def` wrapped by `async_test`, which runs
it to completion in one event loop through `asgiref.sync.async_to_sync`. ORM calls made from that
loop go through `database_sync_to_async`, which runs them on the test's own thread and connection.
"""
import asyncio
import functools
import itertools
import json
import logging
import os
import shutil
import socket
import subprocess
import time
import uuid
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
import redis
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.layers import InMemoryChannelLayer, get_channel_layer
from channels.testing import WebsocketCommunicator
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer
from django.conf import settings as django_settings
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from accounts.tests.factories import AnalystFactory, UserFactory
from catalog.live import consumers
from catalog.models import Variant
from catalog.services import set_stock
from catalog.tests.factories import VariantFactory
from orders import services as order_services
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from shop.asgi import application
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db(transaction=True)

INVENTORY = "/ws/inventory/"
STAFF = "/ws/staff/"
ALLOWED_ORIGIN = b"http://localhost"
TIMEOUT = 3  # seconds to wait for a message that must arrive
QUIET = 0.5  # seconds of silence that count as "nothing more arrives"
REDIS_URL = os.environ.get("REDIS_URL") or "redis://127.0.0.1:6379/0"
RUN_ID = uuid.uuid4().hex[:10]  # keeps this run's Redis keys apart from any other run's
_prefix_numbers = itertools.count(1)


# --- channel layers, cache and a Redis to kill ------------------------------------------------

def redis_layer_settings(url: str, backend: str = "channels_redis.core.RedisChannelLayer") -> dict:
    """CHANNEL_LAYERS for channels-redis at `url`, with a prefix no other test (or run) uses."""
    return {"default": {"BACKEND": backend,
                        "CONFIG": {"hosts": [url], "prefix": f"ishop-test-{RUN_ID}-{next(_prefix_numbers)}"}}}


LAYER_SETTINGS = {
    "memory": (InMemoryChannelLayer, lambda: {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}),
    "redis": (RedisChannelLayer, lambda: redis_layer_settings(REDIS_URL)),
    # The layer production uses by default (shop.conf.caches.CHANNEL_LAYER_BACKENDS["pubsub"]).
    "redis-pubsub": (RedisPubSubChannelLayer, lambda: redis_layer_settings(
        REDIS_URL, "channels_redis.pubsub.RedisPubSubChannelLayer")),
}


@pytest.fixture(params=sorted(LAYER_SETTINGS))
def layer(request, settings):
    """The channel layer of this test: the in-memory one, then channels-redis on the real Redis.

    Overriding CHANNEL_LAYERS makes channels drop its cached layers (setting_changed), so the
    consumers and the broadcast get a new layer of the asked-for kind. Flushed afterwards (for
    Redis: every key under this test's prefix is deleted and the connection pools are closed)."""
    layer_class, make_settings = LAYER_SETTINGS[request.param]
    settings.CHANNEL_LAYERS = make_settings()
    channel_layer = get_channel_layer()
    assert type(channel_layer) is layer_class
    if isinstance(channel_layer, RedisChannelLayer):
        assert channel_layer.prefix == settings.CHANNEL_LAYERS["default"]["CONFIG"]["prefix"]
    yield channel_layer
    async_to_sync(channel_layer.flush)()
    if isinstance(channel_layer, RedisChannelLayer):
        with redis.Redis.from_url(REDIS_URL) as connection:
            assert connection.keys(f"{channel_layer.prefix}*") == []
    elif isinstance(channel_layer, InMemoryChannelLayer):
        assert not channel_layer.channels and not channel_layer.groups


@pytest.fixture(autouse=True)
def clean_cache(settings):
    """A cache of this run's own, with no connection counts in it.

    With the locmem cache (no REDIS_URL) this is cache.clear(). With the Redis cache, clear() would
    FLUSHDB the whole shared Redis database (other runs' keys and channel layers included), so the
    cache gets a key prefix of this run's own instead, and only its counters are deleted."""
    settings.CACHES = {alias: {**config, "KEY_PREFIX": f"ishop-test-{RUN_ID}"}
                       for alias, config in settings.CACHES.items()}
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()
    else:
        cache.delete_many([f"ws:open:{stream}" for stream in ("inventory", "staff", "chat", "staff_chat")])
    yield
    cache.delete_many([f"ws:open:{stream}" for stream in ("inventory", "staff", "chat", "staff_chat")])


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowawayRedis:
    """A redis-server child process on a free port, with no persistence."""

    def __init__(self, directory):
        executable = shutil.which("redis-server")
        assert executable, "redis-server is not on PATH"
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = subprocess.Popen(
            [executable, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--daemonize", "no", "--dir", str(directory)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            assert self.process.poll() is None, f"redis-server exited with {self.process.returncode}"
            try:
                with redis.Redis.from_url(self.url, socket_connect_timeout=0.2) as connection:
                    if connection.ping():
                        return
            except redis.exceptions.ConnectionError:
                assert time.monotonic() < deadline, "redis-server did not start within 10 s"
                time.sleep(0.05)

    def stop(self) -> None:
        """Really stop it: SIGTERM, wait for the process to exit (SIGKILL if it will not)."""
        self.process.terminate()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)


@pytest.fixture
def throwaway_redis(tmp_path):
    server = ThrowawayRedis(tmp_path)
    try:
        yield server
    finally:
        if server.process.poll() is None:
            server.process.kill()
        server.process.wait(timeout=10)


# --- helpers ------------------------------------------------------------------------------------

def async_test(coroutine_function):
    """Run an `async def` test to completion in one event loop (pytest-asyncio is not installed)."""
    @functools.wraps(coroutine_function)
    def test(*args, **kwargs):
        async_to_sync(coroutine_function)(*args, **kwargs)
    return test


def communicator(path: str = INVENTORY, *, origin: bytes | None = ALLOWED_ORIGIN,
                 cookie: tuple[bytes, bytes] | None = None) -> WebsocketCommunicator:
    headers = [(b"origin", origin)] if origin is not None else []
    if cookie is not None:
        headers.append(cookie)
    return WebsocketCommunicator(application, path, headers=headers)


@asynccontextmanager
async def ws(path: str = INVENTORY, *, cookie: tuple[bytes, bytes] | None = None):
    """An open socket (the handshake must be accepted), disconnected on the way out. Disconnecting
    waits for the consumer to finish and re-raises anything it raised."""
    client = communicator(path, cookie=cookie)
    connected, code = await client.connect(timeout=TIMEOUT)
    assert connected, f"handshake on {path} refused (close code {code})"
    try:
        yield client
    finally:
        await client.disconnect(timeout=TIMEOUT)


async def subscribe(client: WebsocketCommunicator, *variant_ids: int) -> list[int]:
    await client.send_json_to({"type": "subscribe", "variants": list(variant_ids)})
    reply = await client.receive_json_from(timeout=TIMEOUT)
    assert reply["type"] == "subscribed", reply
    return reply["variants"]


async def assert_pong(client: WebsocketCommunicator) -> None:
    await client.send_json_to({"type": "ping"})
    assert await client.receive_json_from(timeout=TIMEOUT) == {"type": "pong"}


async def close_code(client: WebsocketCommunicator) -> int:
    """Connect and return the close code the server ends the handshake or the socket with."""
    connected, code = await client.connect(timeout=TIMEOUT)
    if not connected:
        return code
    output = await client.receive_output(timeout=TIMEOUT)
    assert output["type"] == "websocket.close", output
    return output["code"]


async def settle_then_disconnect(client: WebsocketCommunicator) -> None:
    """After the server closed a socket: nothing more arrives, then the browser goes away and the
    consumer must end cleanly.

    The short wait is not cosmetic. Every consumer, even channels' WebsocketDenier, starts a
    channel-layer receive as it starts; with channels-redis on redis-py 8.1, cancelling that receive
    while it is still *sending* its BZPOPMIN is swallowed (redis-py's known cancellation race), so a
    disconnect within the first millisecond leaves the consumer blocked for the 5 s BZPOPMIN timeout
    and then failing with redis TimeoutError. Once the receive is blocked reading, it cancels at once.
    """
    assert await client.receive_nothing(timeout=0.1)
    await client.disconnect(timeout=TIMEOUT)


def assert_current_layer(layer) -> None:
    """The layer the consumers and the broadcast will use is the one this test run configured."""
    assert get_channel_layer() is layer


def assert_stock_message(message: dict, variant: Variant, *, stock: int) -> None:
    assert set(message) == {"type", "variant", "product", "sku", "stock", "in_stock", "ts"}, message
    assert message["type"] == "stock"
    assert message["variant"] == variant.pk
    assert message["product"] == variant.product_id
    assert message["sku"] == variant.sku
    assert message["stock"] == stock
    assert message["in_stock"] is (stock > 0)
    sent = datetime.fromisoformat(message["ts"])  # ISO 8601 with an offset
    assert sent.tzinfo is not None
    assert abs(timezone.now() - sent) < timedelta(minutes=1)


def place(cart, *, customer=None) -> Order:
    return place_paid_order(cart=cart, customer=customer, details=checkout_details(),
                                      idempotency_key=uuid.uuid4().hex)


def place_order_for(variant: Variant, quantity: int) -> Order:
    return place(cart_with((variant, quantity)))


def session_cookie(user) -> tuple[bytes, bytes]:
    """The Cookie header of a browser logged in as `user` (a real session row)."""
    client = Client()
    client.force_login(user)
    name = django_settings.SESSION_COOKIE_NAME
    return (b"cookie", f"{name}={client.cookies[name].value}".encode())


async def db(function, *args, **kwargs):
    return await database_sync_to_async(function)(*args, **kwargs)


@pytest.fixture
def variant():
    return VariantFactory(stock=10, low_stock_threshold=5, price=Decimal("52.00"))


@pytest.fixture
def staff_user():
    """Staff who may see the /staff/ dashboard, and so its live feed."""
    return AnalystFactory()


@pytest.fixture
def customer():
    return UserFactory()


# --- 1-3, 7: the public inventory stream ------------------------------------------------------

@async_test
async def test_order_sends_one_stock_message_to_subscribers(layer, variant):
    assert_current_layer(layer)
    async with ws() as page:
        # Duplicates and a repeated subscribe must not double the messages.
        assert await subscribe(page, variant.pk, variant.pk) == [variant.pk]
        assert await subscribe(page, variant.pk) == [variant.pk]

        order = await db(place_order_for, variant, 2)

        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=8)
        assert await page.receive_nothing(timeout=QUIET)
    assert order.status == Order.Status.PAID


@async_test
async def test_selling_the_last_units_reports_out_of_stock(layer, variant):
    assert_current_layer(layer)
    async with ws() as page:
        await subscribe(page, variant.pk)
        await db(place_order_for, variant, 10)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=0)
        assert await page.receive_nothing(timeout=QUIET)


@async_test
async def test_change_to_another_variant_is_not_sent(layer, variant):
    assert_current_layer(layer)
    other = await db(VariantFactory, stock=10)
    async with ws() as page, ws() as other_page:
        await subscribe(page, variant.pk)
        await subscribe(other_page, other.pk)

        await db(place_order_for, other, 1)

        # The broadcast did go out (the other variant's page hears it) ...
        assert_stock_message(await other_page.receive_json_from(timeout=TIMEOUT), other, stock=9)
        # ... but not to a page that never subscribed to that variant.
        assert await page.receive_nothing(timeout=QUIET)


@async_test
async def test_cancelling_an_order_sends_the_restored_stock(layer, variant):
    assert_current_layer(layer)
    async with ws() as page:
        await subscribe(page, variant.pk)
        order = await db(place_order_for, variant, 3)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=7)

        await db(order_services.cancel_order, order=order)

        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=10)
        assert await page.receive_nothing(timeout=QUIET)


@async_test
async def test_ping_gets_pong(layer):
    assert_current_layer(layer)
    async with ws() as page:
        await assert_pong(page)
        await assert_pong(page)
        assert await page.receive_nothing(timeout=QUIET)


# --- 4: origin check ----------------------------------------------------------------------------

FOREIGN_ORIGINS = [b"http://evil.example", b"http://localhost.evil.example", b"https://evil.example:443", None]


@async_test
async def test_foreign_or_missing_origin_is_refused(layer, staff_user):
    assert_current_layer(layer)
    cookie = await db(session_cookie, staff_user)  # even a staff session does not get past the origin check
    for path in (INVENTORY, STAFF):
        for origin in FOREIGN_ORIGINS:
            client = communicator(path, origin=origin, cookie=cookie)
            connected, code = await client.connect(timeout=TIMEOUT)
            # The handshake is answered with a close, never an accept.
            assert (connected, code) == (False, 1000), (path, origin)
            await settle_then_disconnect(client)
    # The same browser from an allowed origin gets in, so the refusals above were the origin's doing.
    async with ws(STAFF, cookie=cookie) as dashboard:
        await assert_pong(dashboard)


# --- 5: the staff stream ------------------------------------------------------------------------

@async_test
async def test_staff_stream_refuses_anonymous_and_customers(layer, customer):
    assert_current_layer(layer)
    anonymous = communicator(STAFF)
    assert await close_code(anonymous) == consumers.CLOSE_FORBIDDEN == 4403
    await settle_then_disconnect(anonymous)

    logged_in_customer = communicator(STAFF, cookie=await db(session_cookie, customer))
    assert await close_code(logged_in_customer) == 4403
    await settle_then_disconnect(logged_in_customer)

    # Staff without the dashboard permission get a 403 on /staff/, and no feed either.
    other_staff = communicator(STAFF, cookie=await db(session_cookie, await db(UserFactory, is_staff=True)))
    assert await close_code(other_staff) == 4403
    await settle_then_disconnect(other_staff)


@async_test
async def test_refused_staff_socket_hears_nothing(layer, customer, variant):
    """A customer's refused staff socket must not have joined the staff group."""
    assert_current_layer(layer)
    client = communicator(STAFF, cookie=await db(session_cookie, customer))
    assert await close_code(client) == 4403
    await db(place_order_for, variant, 6)  # an order and a low_stock (10 -> 4, threshold 5)
    assert await client.receive_nothing(timeout=QUIET)
    await client.disconnect(timeout=TIMEOUT)


@async_test
async def test_staff_receive_new_orders_and_low_stock(layer, staff_user, variant):
    assert_current_layer(layer)
    async with ws(STAFF, cookie=await db(session_cookie, staff_user)) as dashboard:
        await assert_pong(dashboard)

        order = await db(place_order_for, variant, 2)  # 10 -> 8: above the threshold of 5

        placed = await dashboard.receive_json_from(timeout=TIMEOUT)
        assert placed["type"] == "order_placed"
        assert placed["number"] == order.number
        assert placed["total"] == str(order.total) == "109.00"  # 2 x 52.00 + 5.00 standard shipping
        assert placed["items"] == 2
        assert placed["currency"] == "USD"
        assert datetime.fromisoformat(placed["ts"]).tzinfo is not None
        assert await dashboard.receive_nothing(timeout=QUIET)  # no stock/low_stock for 8 units

        await db(set_stock, variant=variant, stock=6)  # still above the threshold
        assert await dashboard.receive_nothing(timeout=QUIET)

        for stock in (5, 3):  # at, then below, the threshold
            await db(set_stock, variant=variant, stock=stock)
            low = await dashboard.receive_json_from(timeout=TIMEOUT)
            assert low["type"] == "low_stock"
            assert (low["variant"], low["product"], low["sku"]) == (variant.pk, variant.product_id, variant.sku)
            assert (low["stock"], low["threshold"], low["in_stock"]) == (stock, 5, True)
            assert low["product_name"] == await db(lambda: Variant.objects.get(pk=variant.pk).product.name)
            assert await dashboard.receive_nothing(timeout=QUIET)


@async_test
async def test_order_that_leaves_low_stock_sends_low_stock_and_the_order(layer, staff_user, variant):
    assert_current_layer(layer)
    async with ws(STAFF, cookie=await db(session_cookie, staff_user)) as dashboard:
        order = await db(place_order_for, variant, 7)  # 10 -> 3
        received = [await dashboard.receive_json_from(timeout=TIMEOUT) for _ in range(2)]
        assert sorted(message["type"] for message in received) == ["low_stock", "order_placed"]
        by_type = {message["type"]: message for message in received}
        assert by_type["low_stock"]["stock"] == 3
        assert by_type["order_placed"]["number"] == order.number
        assert by_type["order_placed"]["items"] == 7
        assert await dashboard.receive_nothing(timeout=QUIET)


# --- 6: malformed messages --------------------------------------------------------------------

MALFORMED = [
    ("not JSON", dict(text_data="this is not json")),
    ("JSON array", dict(text_data="[1, 2, 3]")),
    ("JSON string", dict(text_data='"ping"')),
    ("no type", dict(text_data='{"variants": [1]}')),
    ("type not a string", dict(text_data='{"type": 1}')),
    ("unknown type", dict(text_data='{"type": "dance"}')),
    ("binary frame", dict(bytes_data=b'{"type": "ping"}')),
    ("variants not a list", dict(text_data='{"type": "subscribe", "variants": "x"}')),
    ("variants missing", dict(text_data='{"type": "subscribe"}')),
    ("ids as strings", dict(text_data='{"type": "subscribe", "variants": ["1"]}')),
    ("ids as floats", dict(text_data='{"type": "subscribe", "variants": [1.5]}')),
    ("ids as booleans", dict(text_data='{"type": "subscribe", "variants": [true]}')),
    ("ids not positive", dict(text_data='{"type": "subscribe", "variants": [0, -1]}')),
    ("more than 500 ids", dict(text_data=json.dumps({"type": "subscribe", "variants": list(range(1, 502))}))),
]
assert len(MALFORMED) + 4 < consumers.FLOOD_LIMIT  # the test below must not trip the flood limit


@async_test
async def test_malformed_messages_get_an_error_and_the_socket_stays_open(layer, variant):
    assert_current_layer(layer)
    bystander_variant = await db(VariantFactory, stock=10)
    async with ws() as page, ws() as bystander:
        await subscribe(page, variant.pk)
        await subscribe(bystander, bystander_variant.pk)

        for label, frame in MALFORMED:
            await page.send_to(**frame)
            reply = await page.receive_json_from(timeout=TIMEOUT)
            assert reply["type"] == "error", label
            assert isinstance(reply["detail"], str) and reply["detail"], label
            assert set(reply) == {"type", "detail"}, label

        # Still open and still subscribed to the earlier, valid subscription.
        await assert_pong(page)
        await db(set_stock, variant=variant, stock=4)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=4)
        assert await page.receive_nothing(timeout=QUIET)

        # The other client saw none of it and works as before.
        assert await bystander.receive_nothing(timeout=QUIET)
        await assert_pong(bystander)
        await db(set_stock, variant=bystander_variant, stock=7)
        assert_stock_message(await bystander.receive_json_from(timeout=TIMEOUT), bystander_variant, stock=7)


@async_test
async def test_subscription_limit_counts_every_message(layer):
    assert_current_layer(layer)
    limit = consumers.MAX_SUBSCRIPTIONS
    async with ws() as page:
        assert await subscribe(page, *range(1, limit)) == list(range(1, limit))  # 499 ids
        assert await subscribe(page, 1, 2, limit) == list(range(1, limit + 1))  # one new id: 500 in all

        await page.send_json_to({"type": "subscribe", "variants": [limit + 1]})  # the 501st
        reply = await page.receive_json_from(timeout=TIMEOUT)
        assert reply["type"] == "error" and str(limit) in reply["detail"]
        await assert_pong(page)


# --- 8: flooding --------------------------------------------------------------------------------

@async_test
async def test_flooding_closes_only_that_socket(layer, variant):
    assert_current_layer(layer)
    async with ws() as flooder, ws() as calm:
        await subscribe(calm, variant.pk)
        for _ in range(consumers.FLOOD_LIMIT):  # the limit itself is allowed ...
            await flooder.send_json_to({"type": "ping"})
        await flooder.send_json_to({"type": "ping"})  # ... one more within the second is not

        pongs = 0
        while (output := await flooder.receive_output(timeout=TIMEOUT))["type"] == "websocket.send":
            assert json.loads(output["text"]) == {"type": "pong"}
            pongs += 1
        assert output["type"] == "websocket.close"
        assert output["code"] == consumers.CLOSE_FLOODING == 4429
        assert pongs == consumers.FLOOD_LIMIT

        await assert_pong(calm)
        await db(set_stock, variant=variant, stock=9)
        assert_stock_message(await calm.receive_json_from(timeout=TIMEOUT), variant, stock=9)


# --- 9: the channel layer is down -------------------------------------------------------------

@async_test
async def test_order_succeeds_and_failure_is_logged_while_redis_is_down(throwaway_redis, settings, caplog,
                                                                         variant):
    settings.CHANNEL_LAYERS = redis_layer_settings(throwaway_redis.url)
    layer = get_channel_layer()
    assert isinstance(layer, RedisChannelLayer)
    assert layer.hosts == [{"address": throwaway_redis.url}]
    cart = await db(cart_with, (variant, 2))

    # While this Redis runs, broadcasts go through it.
    async with ws() as page:
        await subscribe(page, variant.pk)
        await db(set_stock, variant=variant, stock=9)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=9)

    await asyncio.to_thread(throwaway_redis.stop)
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis.from_url(throwaway_redis.url, socket_connect_timeout=1).ping()

    caplog.set_level(logging.ERROR, logger="catalog.live.realtime")
    caplog.clear()
    started = time.monotonic()
    order = await db(place, cart)
    elapsed = time.monotonic() - started

    assert await db(lambda: Order.objects.filter(pk=order.pk, status=Order.Status.PAID).exists())
    assert await db(lambda: Variant.objects.get(pk=variant.pk).stock) == 7
    failures = [record for record in caplog.records
                if record.name == "catalog.live.realtime" and "Live update failed" in record.getMessage()]
    # Both after-commit sends failed on their own: the stock broadcast and the staff order_placed.
    assert len(failures) == 2, [record.getMessage() for record in caplog.records]
    assert all(record.levelno == logging.ERROR and record.exc_info for record in failures)
    assert elapsed < 15, f"checkout waited {elapsed:.1f}s on the dead channel layer"


# --- 10: connection counts --------------------------------------------------------------------

@async_test
async def test_stats_count_open_sockets_for_staff_only(layer, staff_user, customer):
    assert_current_layer(layer)
    staff_browser = await db(Client)
    await db(staff_browser.force_login, staff_user)

    async def stats() -> dict:
        response = await db(staff_browser.get, "/ws/stats/")
        assert response.status_code == 200
        return response.json()

    assert await stats() == {"inventory": 0, "staff": 0, "chat": 0, "staff_chat": 0}
    async with ws() as first, ws() as second:
        async with ws(STAFF, cookie=await db(session_cookie, staff_user)):
            refused = communicator(STAFF, cookie=await db(session_cookie, customer))
            assert await close_code(refused) == 4403  # a refused socket is not counted
            assert await stats() == {"inventory": 2, "staff": 1, "chat": 0, "staff_chat": 0}
            await settle_then_disconnect(refused)
            assert await stats() == {"inventory": 2, "staff": 1, "chat": 0, "staff_chat": 0}
        assert await stats() == {"inventory": 2, "staff": 0, "chat": 0, "staff_chat": 0}
        await first.disconnect(timeout=TIMEOUT)
        assert await stats() == {"inventory": 1, "staff": 0, "chat": 0, "staff_chat": 0}
        await assert_pong(second)
    assert await stats() == {"inventory": 0, "staff": 0, "chat": 0, "staff_chat": 0}

    # Customers and anonymous visitors are sent to the admin login.
    customer_browser = await db(Client)
    await db(customer_browser.force_login, customer)
    for browser in (customer_browser, await db(Client)):
        response = await db(browser.get, "/ws/stats/")
        assert response.status_code == 302
        assert response.url.startswith("/admin/login/")


@async_test
async def test_stats_stay_exact_when_many_sockets_open_and_close_at_once(layer, staff_user):
    """Counting must be atomic: Django's async aincr() is a get and a set, which loses counts."""
    assert_current_layer(layer)
    staff_browser = await db(Client)
    await db(staff_browser.force_login, staff_user)

    async def stats() -> dict:
        return (await db(staff_browser.get, "/ws/stats/")).json()

    pages = [communicator() for _ in range(30)]
    assert all(connected for connected, _ in await asyncio.gather(*(p.connect(timeout=TIMEOUT) for p in pages)))
    assert await stats() == {"inventory": 30, "staff": 0, "chat": 0, "staff_chat": 0}
    await asyncio.gather(*(p.disconnect(timeout=TIMEOUT) for p in pages[:20]))
    assert await stats() == {"inventory": 10, "staff": 0, "chat": 0, "staff_chat": 0}
    await asyncio.gather(*(p.disconnect(timeout=TIMEOUT) for p in pages[20:]))
    assert await stats() == {"inventory": 0, "staff": 0, "chat": 0, "staff_chat": 0}
