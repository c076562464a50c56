"""Webhooks through a real `celery -A shop worker` on PostgreSQL and Redis, consuming a queue of
its own: a worker killed mid-delivery leaves the delivery pending and unrecorded, claimed until its
lease ends, and then the next worker sends it again with the same webhook-id; a stream of stock changes goes through
one worker, with its figures (attempts, latency, events per second) printed for the issue's note."""
import json
import statistics
import time
import uuid

import pytest
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from catalog import services as catalog
from catalog.tests.conftest import running_worker, wait_for
from catalog.tests.factories import VariantFactory
from webhooks import delivery, services, tasks
from webhooks.models import Attempt, Delivery

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(monkeypatch) -> str:
    """A queue of this test's own: this process sends delivery jobs there, the worker consumes it."""
    name = f"test-webhooks-{uuid.uuid4().hex[:10]}"
    real = tasks.deliver.apply_async
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda *args, **kwargs: real(*args, **{**kwargs, "queue": name}))
    return name


def worker_env(queue: str) -> dict:
    return {"WEBHOOK_QUEUE": queue, "WEBHOOK_ALLOW_PRIVATE_NETWORKS": "true", "WEBHOOK_TIMEOUT": "60",
            "WEBHOOK_RETRY_BACKOFF": "1"}


def relayed_until(done, *, timeout: float, message) -> None:
    """Wait for `done()`, relaying due deliveries every second as beat does in production (a
    delivery whose attempt failed, e.g. a refused connection, is retried after its back-off)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            pending = list(Delivery.objects.exclude(status="succeeded").values_list("pk", "status", "attempts",
                                                                                   "last_error"))
            pytest.fail(f"{message()}\nnot succeeded: {pending}")
        delivery.relay()
        time.sleep(1)


def test_a_worker_killed_mid_delivery_sends_it_again_with_the_same_webhook_id(receiver, queue, tmp_path):
    hook = receiver(delays=[30, 0])  # the first request hangs: the worker is killed while it waits
    endpoint = services.create_endpoint(url=hook.url)
    env = {**worker_env(queue), "WEBHOOK_TIMEOUT": "5"}  # a claim lasts 5 + delivery.LEASE_MARGIN seconds
    with running_worker(queue=queue, log_path=tmp_path / "first.log", media_root=tmp_path,
                        extra_env=env, pool=["--pool", "solo"]) as worker:
        with transaction.atomic():
            services.publish(event_type="order.paid", data={"number": "IS-KILLED"})
        wait_for(lambda: len(hook.requests) == 1, timeout=30, message=worker.log)
        worker.process.kill()  # SIGKILL mid-request: no transaction was open, nothing is recorded
        worker.process.wait()
    row = Delivery.objects.get()
    assert (row.status, row.attempts) == ("pending", 0) and not Attempt.objects.exists()
    assert row.next_attempt_at > timezone.now()  # claimed: no other job or relay takes it before the lease ends
    with running_worker(queue=queue, log_path=tmp_path / "second.log", media_root=tmp_path,
                        extra_env=env, pool=["--pool", "solo"]) as worker:
        relayed_until(lambda: Delivery.objects.filter(status="succeeded").exists(), timeout=60,
                      message=lambda: f"not sent again:\n{worker.log()}")
    first, second = hook.requests
    assert first.headers["webhook-id"] == second.headers["webhook-id"] == row.message_id
    assert Webhook(endpoint.secret).verify(second.body, second.headers)["data"] == {"number": "IS-KILLED"}
    assert Delivery.objects.get().attempts == 1


def test_stock_changes_through_one_worker_arrive_with_increasing_sequences(receiver, queue, tmp_path, capsys):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url, events=["stock.changed"])
    variant = VariantFactory(stock=0)
    levels = list(range(1, 301))
    with running_worker(queue=queue, log_path=tmp_path / "worker.log", media_root=tmp_path,
                        extra_env=worker_env(queue), pool=["--pool", "prefork", "--concurrency", "2"]) as worker:
        started = time.monotonic()
        for level in levels:
            catalog.set_stock(variant=variant, stock=level)
        relayed_until(lambda: Delivery.objects.filter(status="succeeded").count() >= len(levels), timeout=180,
                      message=lambda: f"{len(hook.requests)} of {len(levels)} arrived:\n{worker.log()[-3000:]}")
        elapsed = time.monotonic() - started
    received = {r.headers["webhook-id"]: r for r in hook.requests}.values()  # a receiver deduplicates on it
    payloads = [Webhook(endpoint.secret).verify(r.body, r.headers) for r in received]
    assert [p["data"]["stock"] for p in sorted(payloads, key=lambda p: p["sequence"])] == levels
    assert len(received) == len(levels)  # each one arrived
    durations = sorted(Attempt.objects.values_list("duration", flat=True))
    in_order = sum(1 for a, b in zip(payloads, payloads[1:]) if a["sequence"] < b["sequence"])
    with capsys.disabled():
        print(f"\nwebhooks through one worker (prefork, 2 processes): {len(levels)} events in {elapsed:.1f} s "
              f"({len(levels) / elapsed:.0f}/s including the 300 committed changes); attempts "
              f"{Attempt.objects.count()}; attempt latency median {statistics.median(durations) * 1000:.1f} ms, "
              f"p95 {durations[int(len(durations) * 0.95)] * 1000:.1f} ms; arrived in sequence order "
              f"{in_order}/{len(levels) - 1} consecutive pairs")
    assert json.loads(hook.requests[0].body)["type"] == "stock.changed"
