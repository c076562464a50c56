"""The outbox with a real `celery -A shop worker` (on PostgreSQL and Redis, make test and CI) and a
real SMTP server (aiosmtpd): messages left pending while the broker was unreachable are relayed
when a worker starts (shop.recovery), and sent once, also when a second worker starts after it."""
import asyncio
import threading
import uuid
from decimal import Decimal

import pytest
from django.db import connection, transaction

from accounts.tests.factories import UserFactory
from catalog.tests.conftest import running_worker, wait_for
from catalog.tests.factories import VariantFactory
from orders.tests.conftest import SmtpSink
from orders.tests.test_cancel import placed_order
from outbox import services
from outbox.models import Message
from outbox.tests.test_services import broker_down  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)
LOCK_SECONDS = 6.0  # how long a test holds a message's row lock


@pytest.fixture
def sink():
    sink = SmtpSink()
    sink.controller.start()
    yield sink
    sink.controller.stop()


def test_a_worker_that_starts_relays_what_is_pending_and_sends_it_once(sink, tmp_path, broker_down, monkeypatch):
    orders = [placed_order(VariantFactory(stock=3, price=Decimal("20.00")), 1) for _ in range(3)]
    # The relay after each commit found the broker down: the confirmations wait in the outbox.
    emails = Message.objects.filter(kind="orders.order_email")  # (and one analytics.refresh_day)
    assert list(emails.values_list("status", "relayed_at")) == [("pending", None)] * 3
    monkeypatch.undo()  # the broker is back

    queue = f"test-outbox-{uuid.uuid4().hex[:10]}"
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "CELERY_TASK_DEFAULT_QUEUE": queue}
    for start in ("first", "second"):
        with running_worker(queue=queue, log_path=tmp_path / f"{start}.log", media_root=tmp_path, extra_env=env,
                            pool=["--pool", "solo"]) as worker:
            wait_for(lambda: emails.filter(status="sent").count() == 3, timeout=60,
                     message=lambda: f"pending messages were not sent:\n{worker.log()}")
            assert "outbox.tasks.relay" in worker.log()
    subjects = sorted(message["Subject"] for _, message in sink.messages)
    assert subjects == sorted(f"Your iShop order {order.number} is confirmed" for order in orders)
    assert list(emails.values_list("attempts", flat=True)) == [1, 1, 1]


class StallingSink(SmtpSink):
    """An SMTP server whose first DATA hangs for STALL seconds and is then refused (451): the
    worker sending it is killed meanwhile, so that message never arrives; later ones are kept."""

    STALL = 30.0  # seconds

    def __init__(self):
        super().__init__()
        self.stalled = threading.Event()

    async def handle_DATA(self, server, session, envelope):
        if not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(self.STALL)
            return "451 Requested action aborted"
        return await super().handle_DATA(server, session, envelope)


def test_a_worker_killed_with_a_confirmation_in_hand_is_replaced_by_one_that_sends_it(tmp_path, broker_down,
                                                                                        monkeypatch):
    """kill -9 of a worker in the middle of sending an email, and the supervisor starts a new one
    at once (seconds after the killed one started, as in tests/test_stack_failures.py): the job
    died unacknowledged with the killed process, where no other worker sees it, so the new worker
    must relay the pending message itself, not leave it to the stale relay minutes later."""
    sink = StallingSink()
    sink.controller.start()
    try:
        order = placed_order(VariantFactory(stock=3, price=Decimal("20.00")), 1)
        email = Message.objects.get(kind="orders.order_email")
        monkeypatch.undo()  # the broker is back
        queue = f"test-outbox-{uuid.uuid4().hex[:10]}"
        env = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "CELERY_TASK_DEFAULT_QUEUE": queue}
        with running_worker(queue=queue, log_path=tmp_path / "killed.log", media_root=tmp_path, extra_env=env,
                            pool=["--pool", "solo"]) as worker:
            wait_for(sink.stalled.is_set, timeout=30, message=lambda: f"no email was started:\n{worker.log()}")
            worker.process.kill()
            worker.process.wait()
        email.refresh_from_db()
        assert email.status == "pending" and email.relayed_at is not None  # relayed, and lost with the worker
        with running_worker(queue=queue, log_path=tmp_path / "new.log", media_root=tmp_path, extra_env=env,
                            pool=["--pool", "solo"]) as worker:
            wait_for(lambda: sink.messages, timeout=StallingSink.STALL / 2,
                     message=lambda: f"the new worker did not send the confirmation:\n{worker.log()}")
        assert [message["Subject"] for _, message in sink.messages] == [f"Your iShop order {order.number} is confirmed"]
    finally:
        sink.controller.stop()


def test_a_relay_that_waits_for_a_locked_message_loses_none_of_its_jobs(sink, tmp_path, broker_down, monkeypatch):
    """The relay of a worker that starts (shop.recovery, prefork with two processes) finds one of
    two pending emails locked, as by a delivery in progress, for a few seconds. The other process
    must not take the other email's job while the relay still holds that email's row (it would
    skip a locked row as "being delivered" and the email would wait for the stale relay, minutes):
    both emails arrive once the lock is gone. Two CI runs lost emails this way."""
    users = [UserFactory(email=f"{name}@example.com") for name in ("ann", "bob")]
    with transaction.atomic():  # the relay after commit finds the broker down: both wait in the outbox
        for user in users:
            services.enqueue(kind="accounts.verification_email", payload={"user_id": user.pk, "email": user.email})
    emails = Message.objects.filter(kind="accounts.verification_email").order_by("pk")
    assert list(emails.values_list("status", "relayed_at")) == [("pending", None)] * 2
    monkeypatch.undo()  # the broker is back

    locked, release = threading.Event(), threading.Event()

    def hold_the_second_row() -> None:
        try:
            with transaction.atomic():
                Message.objects.select_for_update().get(pk=emails[1].pk)
                locked.set()
                release.wait(timeout=LOCK_SECONDS)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_second_row)
    holder.start()
    assert locked.wait(timeout=10)
    threading.Timer(LOCK_SECONDS, release.set).start()
    queue = f"test-outbox-{uuid.uuid4().hex[:10]}"
    env = {"EMAIL_URL": f"smtp://127.0.0.1:{sink.port}", "CELERY_TASK_DEFAULT_QUEUE": queue}
    try:
        with running_worker(queue=queue, log_path=tmp_path / "worker.log", media_root=tmp_path, extra_env=env,
                            pool=["--pool", "prefork", "--concurrency", "2"]) as worker:
            wait_for(lambda: emails.filter(status="sent").count() == 2, timeout=30,
                     message=lambda: f"{list(emails.values('pk', 'status', 'attempts', 'relayed_at'))}\n{worker.log()}")
    finally:
        release.set()
        holder.join()
    assert sorted(to for message in sink.messages for to in message[0]) == ["ann@example.com", "bob@example.com"]
