"""Emails really delivered: a real `celery -A shop worker` process takes the email tasks from
Redis and sends them over SMTP (EMAIL_URL=smtp://127.0.0.1:<port>) to an aiosmtpd server, as
text and HTML. Runs on PostgreSQL and Redis (make test, CI)."""
import re

import pytest
from django.urls import reverse

from catalog.tests.conftest import wait_for
from catalog.tests.factories import VariantFactory
from orders.models import Order
from orders.tests.test_views import add, checkout

pytestmark = pytest.mark.django_db(transaction=True)


def delivered(sink, count: int, worker) -> list:
    wait_for(lambda: len(sink.messages) >= count, timeout=60,
             message=lambda: f"{len(sink.messages)} of {count} emails reached the SMTP sink; worker log:\n{worker.log()}")
    return sink.messages


def parts(message) -> dict[str, str]:
    return {part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()}


def test_signup_and_order_emails_go_through_the_worker_to_smtp(client, email_worker, smtp_sink):
    smtp_sink.messages.clear()
    client.post(reverse("signup"), {"email": "nia@example.com", "first_name": "Nia", "password1": "a-long-unusual-pass",
                                    "password2": "a-long-unusual-pass"})
    (rcpt, verification), = delivered(smtp_sink, 1, email_worker)
    assert rcpt == ["nia@example.com"] and verification["Subject"] == "Verify your email address for iShop"
    body = parts(verification)
    assert set(body) == {"text/plain", "text/html"}
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/verify/\S+/)", body["text/plain"]).group(1)
    assert link in body["text/html"]
    assert "is verified" in client.get(link, follow=True).content.decode()

    add(client, VariantFactory(product__name="Aero Daily Tank", stock=3), 1)
    checkout(client, email="nia@example.com")
    order = Order.objects.get()
    rcpt, confirmation = delivered(smtp_sink, 2, email_worker)[1]
    assert rcpt == ["nia@example.com"] and order.number in confirmation["Subject"]
    assert "1 x Aero Daily Tank" in parts(confirmation)["text/plain"]
    assert "<table" in parts(confirmation)["text/html"]
    assert "Task orders.tasks.send_order_email" in email_worker.log()  # the worker, not this process, sent it
