"""The outbox with a real `celery -A shop worker` (on PostgreSQL and Redis, make test and CI) and a
real SMTP server (aiosmtpd): messages left pending while the broker was unreachable are relayed
when a worker starts (shop.recovery), and sent once, also when a second worker starts after it."""
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
