"""The fan-out hub (catalog/live/fanout.py): one channel-layer membership per process and variant.

Each test drives the real ASGI application through WebsocketCommunicator, as test_consumers.py
does, on the in-memory layer and on channels-redis (core and pubsub), and watches the calls the hub
makes on the layer by wrapping the layer's own methods (`spy`).
"""
import asyncio
import logging

import pytest
import redis

from catalog.live import consumers, fanout
from catalog.live.realtime import stock_group
from catalog.services import set_stock
from catalog.tests.factories import VariantFactory
from catalog.tests.test_consumers import (  # noqa: F401 - fixtures: layer, clean_cache (autouse), variant
    QUIET,
    TIMEOUT,
    assert_pong,
    assert_stock_message,
    async_test,
    clean_cache,
    communicator,
    db,
    layer,
    subscribe,
    variant,
    ws,
)

pytestmark = pytest.mark.django_db(transaction=True)


class Spy:
    """Wraps one async method of a layer: records the calls, and raises `failures` errors first."""

    def __init__(self, layer, name: str, *, failures: int = 0):
        self.original, self.calls, self.failures = getattr(layer, name), [], failures
        setattr(layer, name, self)

    async def __call__(self, *args):
        self.calls.append(args)
        if self.failures:
            self.failures -= 1
            raise redis.exceptions.ConnectionError("injected by the test")
        return await self.original(*args)


def hub_tasks() -> list[asyncio.Task]:
    return [task for task in asyncio.all_tasks() if task.get_coro().__qualname__.startswith("Hub.")]


def assert_hub_stopped() -> None:
    loop = asyncio.get_running_loop()
    assert not [key for key in fanout._hubs if key[0] is loop]
    assert not hub_tasks()


@pytest.fixture
def fast_retries(monkeypatch):
    monkeypatch.setattr(fanout, "RETRY_DELAYS", (0.05,))


@async_test
async def test_one_group_join_per_process_and_discard_when_the_last_leaves(layer, variant):
    group_add, group_discard = Spy(layer, "group_add"), Spy(layer, "group_discard")
    other = await db(VariantFactory, stock=3)
    async with ws() as first, ws() as second, ws() as third:
        for page in (first, second, third):
            await subscribe(page, variant.pk)
        await subscribe(second, other.pk)
        channel = fanout.get_hub().channel
        assert sorted(group for group, _ in group_add.calls) == sorted([stock_group(variant.pk),
                                                                         stock_group(other.pk)])
        assert {name for _, name in group_add.calls} == {channel}
        assert len(fanout.get_hub().members[stock_group(variant.pk)]) == 3
        assert len(hub_tasks()) == 2  # one receive loop and one keeper, however many sockets

        await second.disconnect(timeout=TIMEOUT)  # the only subscriber of `other`
        assert group_discard.calls == [(stock_group(other.pk), channel)]
        await first.disconnect(timeout=TIMEOUT)
        assert len(group_discard.calls) == 1  # `third` still listens to `variant`

        await db(set_stock, variant=variant, stock=4)
        assert_stock_message(await third.receive_json_from(timeout=TIMEOUT), variant, stock=4)
    assert sorted(group_discard.calls) == sorted([(stock_group(other.pk), channel),
                                                  (stock_group(variant.pk), channel)])
    assert_hub_stopped()

    # A new subscriber after that starts a new hub, which joins again.
    async with ws() as page:
        await subscribe(page, variant.pk)
        assert len(group_add.calls) == 3
        await db(set_stock, variant=variant, stock=5)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=5)
    assert_hub_stopped()


@async_test
async def test_each_subscriber_gets_one_message_and_no_one_else_does(layer, variant):
    receive = Spy(layer, "receive")
    other = await db(VariantFactory, stock=3)
    async with ws() as a, ws() as b, ws() as both, ws() as other_page, ws() as idle:
        await subscribe(a, variant.pk)
        await subscribe(b, variant.pk)
        await subscribe(both, variant.pk, other.pk)
        await subscribe(other_page, other.pk)
        receives_before = len(receive.calls)

        await db(set_stock, variant=variant, stock=7)

        for page in (a, b, both):
            assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=7)
        for page in (a, b, both, other_page, idle):
            assert await page.receive_nothing(timeout=QUIET)
        # The process received the change once (the next receive is waiting), not once per socket.
        assert len(receive.calls) == receives_before + 1

        await b.disconnect(timeout=TIMEOUT)
        await db(set_stock, variant=other, stock=2)
        for page in (both, other_page):
            assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), other, stock=2)
        await db(set_stock, variant=variant, stock=6)
        for page in (a, both):
            assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=6)
        for page in (a, both, other_page, idle):
            assert await page.receive_nothing(timeout=QUIET)
    assert_hub_stopped()


@async_test
async def test_failing_group_add_is_retried_and_never_crashes_the_socket(layer, variant, caplog, fast_retries):
    group_add = Spy(layer, "group_add", failures=2)
    caplog.set_level(logging.ERROR, logger="catalog.live.fanout")
    async with ws() as page:
        assert await subscribe(page, variant.pk) == [variant.pk]  # acknowledged despite the error
        await assert_pong(page)
        for _ in range(100):  # the keeper retries after 0.05 s, fails once more, then joins
            if fanout.get_hub().joined:
                break
            await asyncio.sleep(0.02)
        assert len(group_add.calls) == 3
        assert len([r for r in caplog.records if "channel layer failed" in r.getMessage()]) == 2

        await db(set_stock, variant=variant, stock=8)
        assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=8)
    assert_hub_stopped()


@async_test
async def test_failing_receive_and_discard_are_logged_and_survived(layer, variant, caplog, fast_retries):
    receive = Spy(layer, "receive", failures=1)
    group_discard = Spy(layer, "group_discard", failures=1)
    caplog.set_level(logging.ERROR, logger="catalog.live.fanout")
    async with ws() as stays, ws() as leaves:
        await subscribe(stays, variant.pk)
        await subscribe(leaves, variant.pk)
        for _ in range(100):  # the failed receive is logged, then the loop receives again
            if len(receive.calls) >= 2:
                break
            await asyncio.sleep(0.02)
        assert any("receiving from the channel layer failed" in r.getMessage() for r in caplog.records)

        await db(set_stock, variant=variant, stock=9)
        for page in (stays, leaves):
            assert_stock_message(await page.receive_json_from(timeout=TIMEOUT), variant, stock=9)
            await assert_pong(page)
    # The first discard failed: logged, and the disconnect still ended cleanly (ws() re-raises).
    assert len(group_discard.calls) == 1
    assert any("channel layer failed" in r.getMessage() for r in caplog.records)
    assert_hub_stopped()


@async_test
async def test_a_consumer_that_fails_still_leaves_the_hub(layer, variant, monkeypatch):
    async def fail(self, message):
        raise RuntimeError("boom")

    page = communicator()
    assert (await page.connect(timeout=TIMEOUT))[0]
    await subscribe(page, variant.pk)
    assert hub_tasks()
    monkeypatch.setattr(consumers.InventoryConsumer, "handle", fail)
    await page.send_json_to({"type": "dance"})
    with pytest.raises(RuntimeError, match="boom"):
        # A generous deadline: on a loaded machine (a CI run beside browser tests) the consumer once
        # took longer than TIMEOUT to get to the message, and wait() then returns quietly.
        await page.wait(timeout=10 * TIMEOUT)
    assert_hub_stopped()


def test_each_event_loop_has_its_own_hub(layer):
    from asgiref.sync import async_to_sync

    async def hub_of_this_loop():
        return fanout.get_hub()

    first, second = async_to_sync(hub_of_this_loop)(), async_to_sync(hub_of_this_loop)()
    assert first is not second and first.layer is second.layer is layer
    fanout._hubs.clear()  # never subscribed to, so never started: nothing else to clean up


def test_stock_frames_skip_only_the_session_wrapper():
    """The hub writes text frames past AuthMiddlewareStack's session wrapper, which passes such
    frames through untouched anyway; the wrapper stays in place for everything else."""
    from channels.sessions import InstanceSessionWrapper

    async def raw_send(message):
        """The server's own send."""

    inner = InstanceSessionWrapper({"type": "websocket", "cookies": {}}, raw_send)
    outer = InstanceSessionWrapper({"type": "websocket", "cookies": {}, "session": None}, inner.send)
    assert fanout.frame_sender(outer.send) is raw_send
    assert fanout.frame_sender(raw_send) is raw_send
    assert "websocket.send" not in InstanceSessionWrapper.save_message_types
