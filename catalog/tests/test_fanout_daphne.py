"""The hub's fast frame path under daphne itself (catalog/live/fanout.py frame_sender).

WebsocketCommunicator (test_fanout.py, test_consumers.py) does not go through daphne, so this test
starts a real daphne child process on channels-redis (pubsub, the production default) and connects
real WebSocket clients to it. It checks what a shopper would notice: every subscribed page gets
each stock change exactly once, other pages get nothing, and pages that vanish without a closing
handshake cost the others nothing.
"""
import json
from contextlib import ExitStack
from functools import partial

import pytest
from channels.testing.live import make_application
from daphne.testing import DaphneProcess
from django.db import connections
from websockets.sync.client import connect

from catalog.services import set_stock
from catalog.tests.factories import VariantFactory
from catalog.tests.test_consumers import REDIS_URL, redis_layer_settings

QUIET = 0.3  # seconds a socket waits to show that nothing comes


@pytest.fixture
def daphne_url(settings, transactional_db):
    """ws:// base URL of a daphne child serving shop.asgi on channels-redis pubsub."""
    settings.CHANNEL_LAYERS = redis_layer_settings(REDIS_URL, "channels_redis.pubsub.RedisPubSubChannelLayer")
    connections.close_all()  # the forked server must not inherit (and later close) our database sockets
    server = DaphneProcess("localhost", partial(make_application, static_wrapper=None))
    server.start()
    while not server.ready.wait(timeout=1):
        assert server.is_alive(), "daphne stopped before it was ready"
    yield f"ws://localhost:{server.port.value}/ws/inventory/"
    server.terminate()
    server.join(timeout=10)


def subscribed(sockets: ExitStack, url: str, variant_id: int, **options):
    """A socket subscribed to one variant, closed when `sockets` closes."""
    origin = url.replace("ws://", "http://").split("/ws/")[0]  # as a browser on the shop's own page
    socket = sockets.enter_context(connect(url, open_timeout=10, origin=origin, **options))
    socket.send(json.dumps({"type": "subscribe", "variants": [variant_id]}))
    assert json.loads(socket.recv(timeout=10)) == {"type": "subscribed", "variants": [variant_id]}
    return socket


def assert_quiet(socket) -> None:
    with pytest.raises(TimeoutError):
        socket.recv(timeout=QUIET)


def test_every_open_page_gets_each_change_once_through_daphne(daphne_url):
    with ExitStack() as sockets:
        check_fan_out(sockets, daphne_url)


def check_fan_out(sockets: ExitStack, url: str) -> None:
    watched, other = VariantFactory(stock=9), VariantFactory(stock=9)
    # Half the pages offer permessage-deflate as browsers do, half offer nothing.
    pages = [subscribed(sockets, url, watched.pk, compression=None if n % 2 else "deflate") for n in range(30)]
    bystander = subscribed(sockets, url, other.pk)

    set_stock(variant=watched, stock=7)
    for page in pages:
        message = json.loads(page.recv(timeout=10))
        assert (message["type"], message["variant"], message["stock"], message["in_stock"]) == (
            "stock", watched.pk, 7, True)
    assert_quiet(pages[0])
    assert_quiet(bystander)

    # Ten pages vanish without a closing handshake (a closed laptop lid); the rest carry on.
    for page in pages[:10]:
        page.socket.close()
    set_stock(variant=watched, stock=0)
    for page in pages[10:]:
        message = json.loads(page.recv(timeout=10))
        assert (message["variant"], message["stock"], message["in_stock"]) == (watched.pk, 0, False)
    bystander.send(json.dumps({"type": "ping"}))
    assert json.loads(bystander.recv(timeout=10)) == {"type": "pong"}
