"""Fixtures for the analytics tests.

- `retail_csv`: the real UCI Online Retail file in ../shared/data (fails loudly if missing).
- `retail_slice`: writes chosen lines of the real file to a small CSV (same header), at run time.
- `clean_buffer` (autouse): an empty event buffer, so that each test sees exactly the events it
  caused (the root conftest stops the end-of-request flush: tests flush themselves).
- `analytics_worker`: the real `celery -A shop worker` of catalog's tests (its own queue, the
  real Redis and the test database), with the analytics tasks routed to its queue.
"""
import csv
import gzip
import os
from functools import partial
from pathlib import Path

import pytest

from analytics import events
from catalog.tests.conftest import _worker_process  # noqa: F401 - the module-scoped worker fixture

BASE_DIR = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("ISHOP_DEMO_DATA", BASE_DIR.parent / "shared" / "data"))
RETAIL = SHARED_DATA / "online-retail" / "online_retail.csv.gz"


@pytest.fixture(scope="session")
def retail_csv() -> Path:
    assert RETAIL.is_file(), f"Online Retail data not found at {RETAIL}; set ISHOP_DEMO_DATA"
    return RETAIL


def read_retail(path: Path) -> list[dict]:
    """Every line of the real file as a dict (the csv module only)."""
    with gzip.open(path, "rt", newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="session")
def retail_rows(retail_csv) -> list[dict]:
    return read_retail(retail_csv)


@pytest.fixture
def retail_slice(tmp_path, retail_rows):
    """write(predicate) -> Path of a CSV holding the real lines for which predicate(row) holds."""

    def write(predicate, name: str = "slice.csv") -> Path:
        path = tmp_path / name
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(retail_rows[0]))
            writer.writeheader()
            writer.writerows(row for row in retail_rows if predicate(row))
        return path

    return write


@pytest.fixture(autouse=True)
def clean_buffer():
    events.clear_buffer()
    yield
    events.clear_buffer()


@pytest.fixture
def analytics_worker(_worker_process, transactional_db, monkeypatch):  # noqa: F811
    """The real worker for one `transaction=True` test; analytics tasks sent here go to its queue."""
    from analytics import tasks

    for task in (tasks.flush_events, tasks.refresh_today, tasks.close_day, tasks.rebuild_range):
        monkeypatch.setattr(task, "apply_async", partial(task.apply_async, queue=_worker_process.queue))
    return _worker_process
