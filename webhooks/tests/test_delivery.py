"""Deliveries against real HTTP receivers on 127.0.0.1, on PostgreSQL: signatures the library
verifies, retries with back-off, final answers, the SSRF guard, the timeout, disabling after
failures, secret rotation and sequence numbers. Retries are driven by calling the attempt with
the clock moved to the delivery's next attempt."""
import json
import threading
import time
from datetime import timedelta

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from outbox import services as outbox
from outbox.models import Message
from webhooks import delivery, services
from webhooks.models import Attempt, Delivery, Endpoint, Event

pytestmark = pytest.mark.django_db


def publish_test(endpoint: Endpoint) -> Delivery:
    """A webhook.test event owed to `endpoint` (not yet attempted: no commit in these tests)."""
    return services.send_test(endpoint=endpoint)


def attempt_until_done(delivery_row: Delivery, *, limit: int = 20) -> list[str]:
    """Attempt `delivery_row` at each next attempt time until it is done; the outcomes."""
    outcomes = []
    for _ in range(limit):
        row = Delivery.objects.get(pk=delivery_row.pk)
        if row.status != Delivery.Status.PENDING:
            break
        outcomes.append(delivery.attempt(delivery_id=row.pk, now=max(row.next_attempt_at, timezone.now())))
    return outcomes


def test_the_receiver_verifies_the_signature_and_a_tampered_body_fails(receiver):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url)
    row = publish_test(endpoint)
    assert delivery.attempt(delivery_id=row.pk) == "succeeded"
    [got] = hook.requests
    payload = Webhook(endpoint.secret).verify(got.body, got.headers)
    assert payload["type"] == "webhook.test" and payload["api_version"] == "v1"
    assert payload["id"] == row.event.public_id and payload["sequence"] == row.event_id
    assert got.headers["webhook-id"] == row.message_id and got.headers["content-type"] == "application/json"
    with pytest.raises(WebhookVerificationError):
        Webhook(endpoint.secret).verify(got.body.replace(b"webhook.test", b"order.paid"), got.headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(services.generate_secret()).verify(got.body, got.headers)
    attempt = Attempt.objects.get(delivery=row)
    assert (attempt.number, attempt.response_status, attempt.outcome) == (1, 200, "succeeded")
    assert len(attempt.response_body) == 1024 and attempt.request_body == got.body.decode()
    assert 0 < attempt.duration < 2 and "webhook-signature" not in attempt.request_headers


def test_500_three_times_then_200_gets_the_event_exactly_once_in_the_end(receiver):
    hook = receiver(statuses=[500, 500, 500, 200])
    row = publish_test(services.create_endpoint(url=hook.url))
    first_try = timezone.now()
    assert attempt_until_done(row) == ["retry", "retry", "retry", "succeeded"]
    assert delivery.attempt(delivery_id=row.pk, now=timezone.now() + timedelta(days=2)) == "skipped"
    assert len(hook.requests) == 4
    assert len({r.headers["webhook-id"] for r in hook.requests}) == 1  # the same message each time
    assert len({r.body for r in hook.requests}) == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_status_code) == ("succeeded", 4, 200)
    attempts = list(Attempt.objects.filter(delivery=row).order_by("number"))
    assert [a.outcome for a in attempts] == ["retry", "retry", "retry", "succeeded"]
    # exponential back-off with jitter: 30 s x 2^(n-1) x [0.5, 1]
    waits = [(b.started_at - a.started_at).total_seconds() for a, b in zip(attempts, attempts[1:])]
    assert 15 <= waits[0] <= 31 and 30 <= waits[1] <= 61 and 60 <= waits[2] <= 121, waits
    assert attempts[0].started_at >= first_try
    assert Endpoint.objects.get().consecutive_failures == 0  # a success starts the count again


@pytest.mark.parametrize("status, outcome", [(404, "failed"), (410, "failed"), (400, "failed"), (408, "retry"),
                                             (429, "retry"), (500, "retry"), (503, "retry")])
def test_a_4xx_is_final_but_408_429_and_5xx_are_retried(receiver, status, outcome):
    hook = receiver(statuses=[status])
    row = publish_test(services.create_endpoint(url=hook.url))
    assert delivery.attempt(delivery_id=row.pk) == outcome
    row.refresh_from_db()
    assert row.status == ("failed" if outcome == "failed" else "pending") and row.last_status_code == status


def test_retries_stop_a_day_after_the_event(receiver, settings):
    hook = receiver(statuses=[503])
    row = publish_test(services.create_endpoint(url=hook.url))
    outcomes = attempt_until_done(row, limit=40)
    assert outcomes[-1] == "failed" and set(outcomes[:-1]) == {"retry"}
    assert 10 <= len(outcomes) <= 20, len(outcomes)  # ~14 attempts in 24 h
    last = Attempt.objects.filter(delivery=row).order_by("-number").first()
    assert last.started_at - row.created_at <= timedelta(seconds=settings.WEBHOOK_RETRY_FOR)
    assert last.started_at - row.created_at > timedelta(hours=12)


def test_loopback_and_private_addresses_are_refused_without_the_setting(receiver, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    hook = receiver()
    for url in (hook.url, hook.url.replace("127.0.0.1", "localhost"), "http://10.1.2.3/hooks",
                "http://192.168.0.1/", "http://[::1]:8000/", "http://169.254.169.254/latest/meta-data/"):
        row = publish_test(services.create_endpoint(url=url))
        assert delivery.attempt(delivery_id=row.pk) == "failed", url
        row.refresh_from_db()
        assert "not a public address" in row.last_error, (url, row.last_error)
    assert hook.requests == []


def test_a_redirect_is_not_followed_and_is_final(receiver):
    target = receiver()
    hook = receiver(statuses=[302], location=target.url)
    row = publish_test(services.create_endpoint(url=hook.url))
    assert delivery.attempt(delivery_id=row.pk) == "failed"
    row.refresh_from_db()
    assert "redirects are not followed" in row.last_error and len(hook.requests) == 1 and target.requests == []


@pytest.mark.django_db(transaction=True)  # the threads' connections see the committed rows
def test_a_receiver_that_hangs_is_cut_off_and_others_are_not_delayed(receiver, settings, no_relay):
    settings.WEBHOOK_TIMEOUT = 1.0
    slow, fast = receiver(delay=5), receiver()
    slow_row = publish_test(services.create_endpoint(url=slow.url))
    fast_row = publish_test(services.create_endpoint(url=fast.url))
    outcomes = {}

    def run(row):  # each delivery is its own job: two worker slots, as the worker's concurrency gives
        from django.db import connection
        outcomes[row.pk] = (delivery.attempt(delivery_id=row.pk), time.monotonic() - started)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=run, args=(row,)) for row in (slow_row, fast_row)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert outcomes[fast_row.pk][0] == "succeeded" and outcomes[fast_row.pk][1] < 0.9
    assert outcomes[slow_row.pk][0] == "retry" and 0.9 <= outcomes[slow_row.pk][1] < 2.5
    slow_row.refresh_from_db()
    assert "within 1 seconds" in slow_row.last_error


def test_after_n_failures_in_a_row_the_endpoint_is_disabled_and_the_owner_emailed(receiver, settings):
    settings.WEBHOOK_DISABLE_AFTER_FAILURES = 3
    hook = receiver(statuses=[500])
    endpoint = services.create_endpoint(url=hook.url)
    rows = [services.publish(event_type="order.paid", data={"n": n}).deliveries.get() for n in range(4)]
    for row in rows[:3]:
        assert delivery.attempt(delivery_id=row.pk) == "retry"
    endpoint.refresh_from_db()
    assert endpoint.disabled_at is not None and endpoint.consecutive_failures == 3
    [message] = Message.objects.filter(kind="webhooks.endpoint_disabled")
    assert outbox.deliver(message_id=message.pk).outcome == "sent"
    [email] = mail.outbox
    assert email.to == ["owner@example.com"] and hook.url in email.body and "HTTP 500" in email.body
    # Events no longer go to it, and what was pending fails without a request.
    assert services.subscribers("order.paid") == []
    row = Delivery.objects.get(pk=rows[0].pk)
    assert delivery.attempt(delivery_id=row.pk, now=row.next_attempt_at) == "failed"
    assert len(hook.requests) == 3 and Delivery.objects.get(pk=row.pk).last_error == "the endpoint is disabled"
    # Switched on again: the count starts again.
    services.update_endpoint(endpoint=endpoint, is_active=True)
    assert (endpoint.disabled_at, endpoint.consecutive_failures) == (None, 0)
    assert services.subscribers("order.paid") == [endpoint.pk]


def test_event_types_filter_what_each_endpoint_receives():
    everything = services.create_endpoint(url="http://127.0.0.1:9/all")
    paid = services.create_endpoint(url="http://127.0.0.1:9/paid", events=["order.paid", "stock.low"])
    services.create_endpoint(url="http://127.0.0.1:9/off", is_active=False)
    assert paid.events == ["order.paid", "stock.low"]
    services.publish(event_type="stock.changed", data={"sku": "X"})
    services.publish(event_type="order.paid", data={"number": "IS-1"})
    got = sorted((d.endpoint_id, d.event.type) for d in Delivery.objects.select_related("event"))
    assert got == sorted([(everything.pk, "stock.changed"), (everything.pk, "order.paid"), (paid.pk, "order.paid")])
    with pytest.raises(services.WebhookError, match="order.shipped"):
        services.create_endpoint(url="http://127.0.0.1:9/", events=["order.shipped"])


def test_while_a_secret_rotates_both_secrets_verify(receiver, settings):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url)
    old = endpoint.secret
    new = services.rotate_secret(endpoint=endpoint)
    assert new != old and new.startswith("whsec_")
    row = publish_test(endpoint)
    delivery.attempt(delivery_id=row.pk)
    got = hook.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 2
    assert Webhook(old).verify(got.body, got.headers)["type"] == "webhook.test"
    assert Webhook(new).verify(got.body, got.headers)["type"] == "webhook.test"
    # After the overlap only the new secret signs.
    later = timezone.now() + timedelta(seconds=settings.WEBHOOK_SECRET_OVERLAP + 1)
    row = Delivery.objects.get(pk=publish_test(endpoint).pk)
    Delivery.objects.filter(pk=row.pk).update(next_attempt_at=later)
    delivery.attempt(delivery_id=row.pk, now=later)
    got = hook.requests[-1]
    assert len(got.headers["webhook-signature"].split(" ")) == 1
    with pytest.raises(WebhookVerificationError):
        Webhook(old).verify(got.body, got.headers)  # (and too old for the library's 5-minute window anyway)


def test_sequence_numbers_increase_per_endpoint_so_a_receiver_can_order(receiver):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url)
    rows = [publish_test(endpoint) for _ in range(5)]
    for row in reversed(rows):  # delivered in the reverse order (retries and parallel jobs reorder)
        delivery.attempt(delivery_id=row.pk)
    bodies = [json.loads(r.body) for r in hook.requests]
    assert [b["id"] for b in sorted(bodies, key=lambda b: b["sequence"])] == [r.event.public_id for r in rows]
    sequences = [b["sequence"] for b in sorted(bodies, key=lambda b: b["sequence"])]
    assert sequences == sorted(set(sequences))


def attempt_in_thread(delivery_id: int, outcomes: list) -> threading.Thread:
    """A started thread making one attempt of the delivery on its own connection, as a second
    worker would; its outcome is appended to `outcomes`."""
    def run():
        from django.db import connection
        outcomes.append(delivery.attempt(delivery_id=delivery_id))
        connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_two_jobs_for_one_delivery_send_it_once(receiver, no_relay):
    hook = receiver(delay=0.5)
    row = publish_test(services.create_endpoint(url=hook.url))
    outcomes = []
    threads = [attempt_in_thread(row.pk, outcomes) for _ in range(2)]
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["skipped", "succeeded"] and len(hook.requests) == 1


@pytest.mark.django_db(transaction=True)
def test_no_transaction_is_open_while_the_receiver_answers(receiver, no_relay):
    """A slow receiver must not hold a database transaction (and the delivery's row lock) open:
    while it takes its time, the delivery can be locked at once from another connection, and it
    is claimed (not due) so that no other job sends it meanwhile."""
    hook = receiver(delay=1.0)  # long enough to look, well inside the tests' WEBHOOK_TIMEOUT of 2 s
    row = publish_test(services.create_endpoint(url=hook.url))
    outcomes = []
    thread = attempt_in_thread(row.pk, outcomes)
    deadline = time.monotonic() + 10
    while not hook.requests and time.monotonic() < deadline:
        time.sleep(0.05)
    assert hook.requests, "the attempt never reached the receiver"
    with transaction.atomic():  # NOWAIT: raises at once if the attempt's transaction held the row
        claimed = Delivery.objects.select_for_update(nowait=True).get(pk=row.pk)
    assert claimed.status == "pending" and claimed.next_attempt_at > timezone.now()
    assert delivery.attempt(delivery_id=row.pk) == "skipped"  # another job meanwhile
    thread.join()
    assert outcomes == ["succeeded"] and len(hook.requests) == 1
    assert Delivery.objects.get(pk=row.pk).attempts == Attempt.objects.filter(delivery=row.pk).count() == 1


def test_redeliver_one_or_every_failed_since_keeps_the_webhook_id(receiver):
    hook = receiver(statuses=[404, 404, 200])
    endpoint = services.create_endpoint(url=hook.url)
    first, second = publish_test(endpoint), publish_test(endpoint)
    assert [delivery.attempt(delivery_id=r.pk) for r in (first, second)] == ["failed", "failed"]
    with pytest.raises(services.WebhookError):
        services.redeliver(endpoint=endpoint)
    assert services.redeliver(endpoint=endpoint, delivery_ids=[first.pk]) == [first.pk]
    assert delivery.attempt(delivery_id=first.pk) == "succeeded"
    since = timezone.now() - timedelta(hours=1)
    assert services.redeliver(endpoint=endpoint, failed_since=since) == [second.pk]
    assert delivery.attempt(delivery_id=second.pk) == "succeeded"
    ids = [r.headers["webhook-id"] for r in hook.requests]
    assert ids == [first.message_id, second.message_id, first.message_id, second.message_id]


def test_purge_deletes_old_finished_events_only(receiver):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url)
    done, waiting = publish_test(endpoint), publish_test(endpoint)
    delivery.attempt(delivery_id=done.pk)
    assert services.purge(older_than_days=0, now=timezone.now() + timedelta(seconds=1)) == 1
    assert list(Event.objects.values_list("pk", flat=True)) == [waiting.event_id]


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_transaction_sends_nothing_and_a_committed_one_is_delivered(receiver, eager):
    hook = receiver()
    services.create_endpoint(url=hook.url)
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            services.publish(event_type="order.paid", data={"number": "IS-ROLLEDBACK"})
            raise RuntimeError("the change failed")
    assert Event.objects.count() == 0 and hook.requests == []
    with transaction.atomic():
        services.publish(event_type="order.paid", data={"number": "IS-COMMITTED"})
        assert hook.requests == []  # not before the commit
    assert [json.loads(r.body)["data"]["number"] for r in hook.requests] == ["IS-COMMITTED"]
    assert Delivery.objects.get().status == "succeeded"
