"""Emails really delivered: a real `celery -A shop worker` process takes the outbox's delivery
jobs from Redis and sends the emails over SMTP (EMAIL_URL=smtp://127.0.0.1:<port>) to an aiosmtpd server, as
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
    assert "Task outbox.tasks.deliver" in email_worker.log()  # the worker, not this process, sent it


def test_shipped_password_reset_and_back_in_stock_emails_over_smtp(client, email_worker, smtp_sink):
    from accounts.models import WishlistItem
    from accounts.tests.factories import UserFactory
    from catalog import services as catalog
    from orders import services

    smtp_sink.messages.clear()
    customer = UserFactory(email="ann@example.com")
    client.force_login(customer)
    variant = VariantFactory(product__name="Layla Tee", stock=1)
    add(client, variant, 1)
    checkout(client, email="ann@example.com")
    delivered(smtp_sink, 1, email_worker)  # the confirmation
    services.transition_order(order=Order.objects.get(), to_status=Order.Status.FULFILLED, tracking_number="TRK-77")
    rcpt, shipped = delivered(smtp_sink, 2, email_worker)[1]
    assert "has shipped" in shipped["Subject"] and "TRK-77" in parts(shipped)["text/plain"]

    WishlistItem.objects.create(user=customer, product=variant.product, variant=variant, awaiting_restock=True)
    catalog.set_stock(variant=variant, stock=4)
    rcpt, back = delivered(smtp_sink, 3, email_worker)[2]
    assert (rcpt, back["Subject"]) == (["ann@example.com"], "Back in stock: Layla Tee")

    client.logout()
    client.post(reverse("password_reset"), {"email": "ann@example.com"})
    rcpt, reset = delivered(smtp_sink, 4, email_worker)[3]
    assert reset["Subject"] == "Reset your iShop password"
    link = re.search(r"http://127\.0\.0\.1:8000(/accounts/reset/\S+/)", parts(reset)["text/plain"]).group(1)
    form = client.get(link, follow=True)
    client.post(form.redirect_chain[-1][0], {"new_password1": "fresh-start-pass-7", "new_password2": "fresh-start-pass-7"})
    assert client.login(username="ann@example.com", password="fresh-start-pass-7")
