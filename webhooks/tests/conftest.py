"""Fixtures of the webhook tests: receivers on 127.0.0.1, private networks allowed (as the tests
need), and eager Celery when a test wants the relay after commit to deliver here and now."""
import pytest

from shop.celery import app

from .receivers import Receiver


@pytest.fixture(autouse=True)
def private_networks(settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True
    settings.WEBHOOK_TIMEOUT = 2.0
    settings.SHOP_OWNER_EMAILS = ["owner@example.com"]


@pytest.fixture
def receiver():
    """Factory: receiver(statuses=[500, 200], delay=0) started, stopped after the test."""
    started = []

    def make(**kwargs) -> Receiver:
        started.append(Receiver(**kwargs).start())
        return started[-1]

    yield make
    for one in started:
        one.stop()


@pytest.fixture
def eager():
    """Celery runs jobs where they are sent (the relay after commit attempts the delivery at once)."""
    before, app.conf.task_always_eager = app.conf.task_always_eager, True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def no_relay(monkeypatch):
    """Nothing is handed to the broker after commit: the test makes each attempt itself."""
    from webhooks import delivery

    monkeypatch.setattr(delivery, "relay", lambda **kwargs: 0)
