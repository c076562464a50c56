"""`manage.py outbox status | relay | retry` and the admin's view of the outbox."""
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from accounts.models import User
from outbox.models import Message
from outbox.tests.test_services import DONE, broker_down, nothing_done  # noqa: F401 - fixtures

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = StringIO()
    call_command("outbox", *args, stdout=out)
    return out.getvalue()


def test_status_counts_pending_sent_and_failed_per_kind():
    for status, count in (("pending", 2), ("sent", 3), ("failed", 1)):
        for _ in range(count):
            Message.objects.create(kind="orders.order_email", status=status)
    Message.objects.create(kind="accounts.verification_email", status="sent")
    lines = run("status").splitlines()
    assert lines[0].split() == ["kind", "pending", "sent", "failed", "oldest", "pending"]
    assert lines[1].split() == ["accounts.verification_email", "0", "1", "0", "-"]
    assert lines[2].split()[:4] == ["orders.order_email", "2", "3", "1"]
    assert re.search(r"\d+ s ago$", lines[2])
    assert lines[3].split() == ["total", "2", "4", "1"]


def test_relay_hands_pending_messages_to_the_broker_now():
    from shop.celery import app

    Message.objects.create(kind="outbox_tests.record", payload={"name": "late"})
    before, app.conf.task_always_eager = app.conf.task_always_eager, True  # delivered here and now
    try:
        assert run("relay") == "Relayed 1 of 1 pending message(s) due now.\n"
    finally:
        app.conf.task_always_eager = before
    assert DONE == [{"name": "late"}] and Message.objects.get().status == "sent"


def test_relay_fails_when_the_broker_is_down(broker_down):
    Message.objects.create(kind="outbox_tests.record", payload={"name": "late"})
    with pytest.raises(CommandError, match="The broker took none of them"):
        run("relay")
    assert Message.objects.get().status == "pending"


def test_retry_puts_failed_messages_back(broker_down):
    Message.objects.create(kind="orders.order_email", status="failed", attempts=7)
    Message.objects.create(kind="accounts.verification_email", status="failed", attempts=7)
    assert run("retry", "--kind", "orders.order_email") == "1 failed message(s) queued again.\n"
    assert sorted(Message.objects.values_list("kind", "status", "attempts")) == [
        ("accounts.verification_email", "failed", 7), ("orders.order_email", "pending", 0)]


def test_the_admin_lists_messages_and_retries_failed_ones(client, broker_down):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    failed = Message.objects.create(kind="orders.order_email", status="failed", attempts=7,
                                    last_error="SMTPServerDisconnected: Connection unexpectedly closed")
    page = client.get(reverse("admin:outbox_message_changelist") + "?status__exact=failed")
    assert page.status_code == 200 and "SMTPServerDisconnected" in page.content.decode()
    assert client.get(reverse("admin:outbox_message_add")).status_code == 403
    done = client.post(reverse("admin:outbox_message_changelist"),
                       {"action": "retry", "_selected_action": [failed.pk]}, follow=True)
    assert "1 failed message(s) queued again." in done.content.decode()
    assert Message.objects.get().status == "pending"
