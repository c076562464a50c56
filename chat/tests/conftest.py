"""Chat test fixtures: the channel layers (in-memory and Redis, as the inventory socket tests use),
a cache of this run's own, emails delivered in this process."""
import pytest
from django.core.cache import cache

from catalog.tests.test_consumers import RUN_ID, layer  # noqa: F401  (the layer fixture: memory, redis, redis-pubsub)

from chat import live

from .factories import ChatStaffFactory


@pytest.fixture(autouse=True)
def chat_cache(settings):
    """Presence and rate-limit keys under a prefix of this run's own (never FLUSHDB a shared Redis)."""
    settings.CACHES = {alias: {**config, "KEY_PREFIX": f"ishop-chat-test-{RUN_ID}"}
                       for alias, config in settings.CACHES.items()}
    if "locmem" in settings.CACHES["default"]["BACKEND"]:
        cache.clear()
    cache.delete(live.PRESENCE_KEY)  # no one online from an earlier test
    yield
    cache.delete(live.PRESENCE_KEY)


@pytest.fixture(autouse=True)
def emails_run_here():
    """Outbox emails are delivered in this process (eager Celery) once relayed after commit."""
    from shop.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def chat_staff():
    return ChatStaffFactory()
