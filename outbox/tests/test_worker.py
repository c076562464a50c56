"""The outbox with a real `celery -A shop worker` (on PostgreSQL and Redis, make test and CI) and a
real SMTP server (aiosmtpd): messages left pending while the broker was unreachable are relayed
when a worker starts (shop.recovery), and sent once, also when a second worker starts after it."""
import asyncio
import threading
import uuid
from decimal import Decimal

import pytest

from catalog.tests.conftest import running_worker, wait_for
from catalog.tests.factories import VariantFactory
from orders.tests.conftest import SmtpSink
from orders.tests.test_cancel import placed_order
from outbox.models import Message
from outbox.tests.test_services import broker_down  # noqa: F401 - fixture

pytestmark = pytest.mark.django_db(transaction=True)


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
