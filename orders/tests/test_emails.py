"""Order emails and the order timeline through the client: confirmation at checkout (a guest's
with a signed link to the order), shipped with tracking, cancelled and refunded; the admin's
status actions call the lifecycle service and refuse illegal moves with a clear message; emails
are outbox messages, sent after commit and retried when the mail server fails."""
import re
import smtplib

import pytest
from django.core import mail, signing
from django.core.mail.backends.locmem import EmailBackend
from django.urls import reverse

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import emails
from orders.models import Order
from orders.tests.test_views import add, checkout
from outbox import services as outbox, tasks as outbox_tasks
from outbox.models import Message

pytestmark = pytest.mark.django_db
S = Order.Status


def link_in(message) -> str:
    return re.search(r"http://127\.0\.0\.1:8000(/\S+)", message.body).group(1)


@pytest.fixture
def admin_client_(client):
    staff = client.__class__()
    staff.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    return staff


def act(staff, action, order, **extra):
    return staff.post(reverse("admin:orders_order_changelist"),
                      {"action": action, "_selected_action": [order.pk], **extra}, follow=True)


def test_guest_confirmation_email_links_to_the_order_and_its_timeline(client, django_capture_on_commit_callbacks):
    variant = VariantFactory(product__name="Aero Daily Tank", stock=3)
    add(client, variant, 2)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        _, done, _ = checkout(client)
    assert callbacks, "the email is sent after commit"
    order = Order.objects.get()
    message, = mail.outbox
    assert message.to == ["gale@example.com"]
    assert message.subject == f"Your iShop order {order.number} is confirmed"
    assert "2 x Aero Daily Tank" in message.body and f"Total: ${order.total:,.2f}" in message.body
    html, mimetype = message.alternatives[0]
    assert mimetype == "text/html" and "<table" in html and order.number in html

    # The link works in another browser, without an account or the placing session.
    stranger = client.__class__()
    page = stranger.get(link_in(message))
    assert page.status_code == 200 and order.number in page.content.decode()
    assert 'data-status="paid"' in page.content.decode()
    assert stranger.get(link_in(message)[:-4] + "abc/").status_code == 404
    assert stranger.get(reverse("orders:guest_order", args=[signing.dumps(order.number)])).status_code == 404


def test_guest_links_expire(client, settings):
    variant = VariantFactory(stock=3)
    add(client, variant)
    checkout(client)
    token = emails.guest_order_token(Order.objects.get())
    settings.SHOP_GUEST_ORDER_LINK_MAX_AGE = -1
    assert client.__class__().get(reverse("orders:guest_order", args=[token])).status_code == 404


def test_admin_ships_with_tracking_and_the_customer_sees_the_timeline(client, admin_client_,
                                                                       django_capture_on_commit_callbacks):
    customer = UserFactory(email="ann@example.com")
    client.force_login(customer)
    add(client, VariantFactory(stock=3))
    checkout(client, email="ann@example.com")
    order = Order.objects.get()
    missing = act(admin_client_, "ship_orders", order, apply="1", **{f"order-{order.pk}-tracking_number": ""})
    assert "This field is required." in missing.content.decode()
    assert Order.objects.get().status == S.PAID
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client_, "ship_orders", order, apply="1", **{f"order-{order.pk}-tracking_number": "TRK-42"})
    shipped = [m for m in mail.outbox if "shipped" in m.subject]
    assert len(shipped) == 1 and "Tracking number: TRK-42" in shipped[0].body
    assert link_in(shipped[0]) == order.get_absolute_url()  # a customer's link is their account page
    page = client.get(order.get_absolute_url()).content.decode()
    assert re.search(r'data-status="paid".*Paid.*data-status="fulfilled".*Shipped.*TRK-42', page, re.S)
    timeline = list(Order.objects.get().status_changes.values_list("to_status", "changed_by__email"))
    assert timeline == [(S.PENDING_PAYMENT, None), (S.PAID, None), (S.FULFILLED, "boss@example.com")]
    admin_page = admin_client_.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "timeline" in admin_page.lower() and "boss@example.com" in admin_page


def test_cancel_and_refund_emails_and_illegal_moves_are_explained(client, admin_client_,
                                                                   django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=5)
    add(client, variant, 2)
    checkout(client)
    first = Order.objects.get()
    add(client, variant, 1)
    checkout(client)
    second = Order.objects.exclude(pk=first.pk).get()
    assert Variant.objects.get(pk=variant.pk).stock == 2

    page = act(admin_client_, "mark_delivered", first).content.decode()
    assert f"Order {first.number} cannot move from paid to delivered." in page
    with django_capture_on_commit_callbacks(execute=True):
        act(admin_client_, "cancel_orders", first)
        act(admin_client_, "refund_orders", second)
    subjects = {m.subject for m in mail.outbox}
    assert subjects == {f"Your iShop order {first.number} is cancelled", f"Your iShop order {second.number} is refunded"}
    assert Variant.objects.get(pk=variant.pk).stock == 5
    page = act(admin_client_, "refund_orders", first).content.decode()
    assert f"Order {first.number} is cancelled and cannot be refunded." in page
    assert len(mail.outbox) == 2  # a refused move sends nothing


def test_delivered_sends_no_email_and_mark_paid_only_from_pending(admin_client_, django_capture_on_commit_callbacks):
    from orders.tests.test_cancel import placed_order

    order = placed_order(VariantFactory(stock=2), 1)
    Order.objects.filter(pk=order.pk).update(status=S.PENDING_PAYMENT)
    with django_capture_on_commit_callbacks(execute=True):
        assert "1 order(s) marked as paid" in act(admin_client_, "mark_paid", order).content.decode()
    assert mail.outbox == []
    assert "cannot move from paid to paid" in act(admin_client_, "mark_paid", order).content.decode()


class FlakyBackend(EmailBackend):
    """The locmem backend, but the first `failures` sends fail as a dropped SMTP connection would."""

    failures = 0

    def send_messages(self, messages):
        if FlakyBackend.failures:
            FlakyBackend.failures -= 1
            raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")
        return super().send_messages(messages)


@pytest.fixture
def eager_retries_recorded():
    """Eager tasks record their failure instead of raising it (Celery's eager retries re-apply
    the task without `throw`, so only the setting decides)."""
    from shop.celery import app

    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = True


def test_the_email_is_retried_with_backoff_when_the_mail_server_fails_then_given_up(settings):
    from orders.tests.test_cancel import placed_order

    order = placed_order(VariantFactory(stock=2), 1)  # its confirmation waits in the outbox (no commit here)
    message = Message.objects.get(kind="orders.order_email")
    assert (message.status, message.payload) == ("pending", {"order_id": order.pk, "event": "confirmation"})
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = 2
    first, second = outbox.deliver(message_id=message.pk), outbox.deliver(message_id=message.pk)
    assert (first.outcome, second.outcome) == ("retry", "retry")
    assert 15 <= first.retry_in <= 30 and 30 <= second.retry_in <= 60  # 30 s, then 60 s, times 0.5-1
    assert mail.outbox == [] and "SMTPServerDisconnected" in Message.objects.get(pk=message.pk).last_error
    assert outbox.deliver(message_id=message.pk).outcome == "sent"
    assert len(mail.outbox) == 1 and Message.objects.get(pk=message.pk).attempts == 3
    assert outbox.deliver(message_id=message.pk).outcome == "skipped"  # delivered again: nothing happens
    assert len(mail.outbox) == 1

    FlakyBackend.failures = 99  # a server that stays down: OUTBOX_MAX_ATTEMPTS tries, then failed
    again = outbox.enqueue(kind="orders.order_email", payload={"order_id": order.pk, "event": "confirmation"})
    outcomes = [outbox.deliver(message_id=again.pk).outcome for _ in range(settings.OUTBOX_MAX_ATTEMPTS + 1)]
    assert outcomes == ["retry"] * (settings.OUTBOX_MAX_ATTEMPTS - 1) + ["failed", "skipped"]
    again.refresh_from_db()
    assert (again.status, again.attempts) == ("failed", settings.OUTBOX_MAX_ATTEMPTS)
    assert again.last_error == "SMTPServerDisconnected: Connection unexpectedly closed"
    assert len(mail.outbox) == 1


def test_the_delivery_job_retries_itself(settings, eager_retries_recorded):
    """The Celery job of a message retries after the back-off (eagerly here: at once) until the
    email is sent."""
    from orders.tests.test_cancel import placed_order

    placed_order(VariantFactory(stock=2), 1)
    message = Message.objects.get(kind="orders.order_email")
    settings.EMAIL_BACKEND = f"{__name__}.FlakyBackend"
    FlakyBackend.failures = 2
    outbox_tasks.deliver.apply(args=[message.pk])
    message.refresh_from_db()
    assert (message.status, message.attempts, FlakyBackend.failures) == ("sent", 3, 0)
    assert len(mail.outbox) == 1
