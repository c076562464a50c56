"""Project-wide pytest fixtures: media goes to a temporary folder; real data is found in ../shared."""
import os
from pathlib import Path

import pytest

SHARED_DATA = Path(os.environ.get("ISHOP_DEMO_DATA", Path(__file__).resolve().parent.parent / "shared" / "data"))
LUMA = SHARED_DATA / "luma"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test writes uploaded and imported files under its own temporary MEDIA_ROOT."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
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
