"""The outbox's rules, on the services: a message exists exactly when its transaction committed,
is relayed after commit, is done once however often it is delivered (also by two workers at the
same moment, on PostgreSQL with real threads), is retried with back-off and given up after
OUTBOX_MAX_ATTEMPTS; the relay stops at a broker error and leaves the rest pending."""
import threading
import time
from contextlib import suppress
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone
from kombu.exceptions import OperationalError

from outbox import selectors, services, tasks
from outbox.models import Message
from outbox.registry import UnknownKind, handler_for, handles

pytestmark = pytest.mark.django_db
DONE: list[dict] = []  # what the test handler did, in order


@handles("outbox_tests.record")
def record(*, name: str, slow: float = 0.0, fail: bool = False) -> None:
    """A handler for these tests: records its payload (after `slow` seconds), or raises."""
    time.sleep(slow)
    if fail:
        raise ConnectionRefusedError("the remote end is down")
    DONE.append({"name": name})


@pytest.fixture(autouse=True)
def nothing_done():
    DONE.clear()
    yield
    DONE.clear()


@pytest.fixture
def broker_down(monkeypatch):
    """Handing a job to the broker fails as it does with Redis stopped."""
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.deliver, "apply_async", refuse)


def test_a_message_is_relayed_and_done_after_commit(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with transaction.atomic():
            message = services.enqueue(kind="outbox_tests.record", payload={"name": "a"})
            assert DONE == []  # not inside the transaction
    assert len(callbacks) == 1 and DONE == [{"name": "a"}]
    message.refresh_from_db()
    assert (message.status, message.attempts, message.last_error) == ("sent", 1, "")
    assert message.relayed_at is not None and message.done_at is not None


def test_a_rolled_back_transaction_writes_and_sends_nothing(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with suppress(RuntimeError), transaction.atomic():
            services.enqueue(kind="outbox_tests.record", payload={"name": "never"})
            raise RuntimeError("the order failed")
    assert Message.objects.count() == 0 and callbacks == [] and DONE == []


def test_a_message_relayed_twice_is_done_once(monkeypatch):
    queued = []  # the broker's queue: jobs handed over and not yet run
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kwargs: queued.append(args))
    message = services.enqueue(kind="outbox_tests.record", payload={"name": "once"})
    assert services.relay(stale_after_seconds=0) == 1  # beat's relay
    assert services.relay(stale_after_seconds=0) == 1  # a worker connecting to the broker, before the job ran
    assert queued == [[message.pk], [message.pk]]
    results = [tasks.deliver.apply(args=args).get() for args in queued]
    assert results == ["sent", "skipped"] and DONE == [{"name": "once"}]
    assert services.relay(stale_after_seconds=0) == 0  # done: nothing more to relay


@pytest.mark.django_db(transaction=True)
def test_two_workers_delivering_one_message_at_once_do_it_once():
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (make test uses it)")
    message = Message.objects.create(kind="outbox_tests.record", payload={"name": "race", "slow": 0.5})
    outcomes = []

    def worker() -> None:
        try:
            outcomes.append(services.deliver(message_id=message.pk).outcome)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["sent", "skipped"] and DONE == [{"name": "race"}]


def test_failures_are_retried_with_backoff_then_given_up(settings):
    settings.OUTBOX_MAX_ATTEMPTS = 3
    message = Message.objects.create(kind="outbox_tests.record", payload={"name": "x", "fail": True})
    before = timezone.now()
    first = services.deliver(message_id=message.pk)
    message.refresh_from_db()
    assert first.outcome == "retry" and 15 <= first.retry_in <= 30
    assert message.available_at >= before + timedelta(seconds=15)
    assert (message.status, message.attempts) == ("pending", 1)
    assert message.last_error == "ConnectionRefusedError: the remote end is down"
    assert services.relay() == 0  # waiting out its back-off: not relayed
    assert services.deliver(message_id=message.pk).outcome == "retry"
    assert services.deliver(message_id=message.pk).outcome == "failed"
    message.refresh_from_db()
    assert (message.status, message.attempts) == ("failed", 3) and message.done_at is not None

    assert services.retry_failed(kind="outbox_tests.record") == 1  # relayed after commit
    message.refresh_from_db()
    assert (message.status, message.attempts, message.done_at) == ("pending", 0, None)


def test_the_backoff_doubles_and_is_capped(settings):
    settings.OUTBOX_RETRY_BACKOFF, settings.OUTBOX_RETRY_BACKOFF_MAX = 30, 600
    for attempts, base in [(1, 30), (2, 60), (3, 120), (5, 480), (6, 600), (20, 600)]:
        assert base / 2 <= services.backoff_seconds(attempts) <= base


def test_the_relay_stops_at_a_broker_error_and_everything_stays_pending(broker_down, caplog):
    for name in "abc":
        Message.objects.create(kind="outbox_tests.record", payload={"name": name})
    assert services.relay(stale_after_seconds=0) == 0
    assert set(Message.objects.values_list("status", flat=True)) == {"pending"}
    assert not Message.objects.filter(relayed_at__isnull=False).exists()
    assert "Outbox relay stopped, broker unavailable; 3 wait for the next relay" in caplog.text


def test_the_periodic_relay_skips_messages_relayed_recently(settings, monkeypatch):
    sent = []
    monkeypatch.setattr(tasks.deliver, "apply_async", lambda args, **kwargs: sent.append(args[0]))
    settings.OUTBOX_RELAY_STALE_SECONDS = 300
    fresh = Message.objects.create(kind="outbox_tests.record", payload={"name": "fresh"})
    recent = Message.objects.create(kind="outbox_tests.record", payload={"name": "recent"},
                                    relayed_at=timezone.now() - timedelta(seconds=60))
    stale = Message.objects.create(kind="outbox_tests.record", payload={"name": "stale"},
                                   relayed_at=timezone.now() - timedelta(seconds=600))
    Message.objects.create(kind="outbox_tests.record", payload={"name": "done"}, status="sent")
    assert services.relay() == 2 and sent == [fresh.pk, stale.pk]
    assert services.relay(stale_after_seconds=0) == 3 and sent[2:] == [fresh.pk, recent.pk, stale.pk]


def test_only_registered_kinds_and_json_payloads_are_accepted():
    with pytest.raises(services.InvalidMessage, match="No outbox handler is registered for 'nobody.nothing'"):
        services.enqueue(kind="nobody.nothing", payload={})
    with pytest.raises(services.InvalidMessage, match="not JSON serializable"):
        services.enqueue(kind="outbox_tests.record", payload={"name": object()})
    with pytest.raises(UnknownKind):
        handler_for("nobody.nothing")
    assert Message.objects.count() == 0


def test_every_email_kind_is_registered():
    for kind in ("orders.order_email", "accounts.verification_email", "accounts.password_reset_email",
                 "accounts.back_in_stock_email"):
        assert callable(handler_for(kind))


def test_counts_by_kind_and_purge(settings):
    old = timezone.now() - timedelta(days=40)
    Message.objects.create(kind="b.kind", status="sent", done_at=old)
    Message.objects.create(kind="b.kind", status="sent", done_at=timezone.now())
    Message.objects.create(kind="b.kind", status="failed")
    Message.objects.create(kind="a.kind", created_at=old)
    counts = selectors.counts_by_kind()
    assert [(c.kind, c.pending, c.sent, c.failed) for c in counts] == [("a.kind", 1, 0, 0), ("b.kind", 0, 2, 1)]
    assert counts[0].oldest_pending == old and counts[1].oldest_pending is None
    settings.OUTBOX_KEEP_SENT_DAYS = 30
    assert services.purge_sent() == 1
    assert Message.objects.count() == 3
