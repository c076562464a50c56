"""Project-wide pytest fixtures: media goes to a temporary folder; real data is found in ../shared.
In CI (the CI environment variable set, as .ci/run does) a skipped test fails the run."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("ISHOP_DEMO_DATA", Path(__file__).resolve().parent.parent / "shared" / "data"))
LUMA = SHARED_DATA / "luma"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI nothing may be skipped: a test skipped for want of a service (Redis, PostgreSQL,
    pg_dump, a library) is reported as failed with its reason, so that a missing install step or a
    stopped service turns the run red instead of passing untested. On a laptop skips stay skips."""
    report = yield
    if os.environ.get("CI") and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where nothing may be skipped: {reason}"
    return report


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes uploaded and imported files under its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture(autouse=True)
def page_cache_namespace(settings):
    """Each test gets its own cache namespace (shop.cache): pages and facets cached in
    Redis by an earlier test or run, for other rows under the same URLs, are never served. The page
    cache is off; catalog/tests/test_listing_pages.py turns it on with real commits."""
    import uuid

    settings.SHOP_PAGE_CACHE_NAMESPACE = f"test-{uuid.uuid4().hex}"
    # Off unless a test turns it on: most tests write inside a transaction that never commits, so
    # the after-commit invalidation (what production relies on) would never run for them.
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0


@pytest.fixture(scope="session")
def luma_dir() -> Path:
    """The real Luma catalogue in ../shared/data/luma (fails loudly if it is missing)."""
    assert (LUMA / "products.csv").is_file(), f"Luma demo data not found at {LUMA}; set ISHOP_DEMO_DATA"
    return LUMA


@pytest.fixture(autouse=True)
def no_event_flush_at_request_end(settings):
    """Analytics: buffered shopper events are flushed by the tests that want them
    (analytics.events.flush), never at the end of a request, which would add a query to pages
    whose query count is pinned (only the embedded mode without Redis flushes there)."""
    settings.ANALYTICS_FLUSH_SECONDS = float("inf")


@pytest.fixture(autouse=True)
def no_throttle_counts():
    """API throttle counters live in the cache (Redis under `make test`), keyed by client IP; start
    every test with none, so that one test's requests never throttle the next. Only DRF's
    `throttle_*` keys go: a FLUSHDB would also take the Celery queues and channel-layer keys that
    live workers and servers of other fixtures share the Redis db with."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    cache = caches["default"]
    if not isinstance(cache, RedisCache):
        cache.clear()  # local memory: this process's own
        return
    client = cache._cache.get_client(write=True)
    stale = list(client.scan_iter(match=cache.make_key("throttle_*")))
    if stale:
        client.delete(*stale)
