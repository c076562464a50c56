"""Stripe payments end to end against the fake Stripe: checkout to the hosted page, webhooks
(signature, exactly once, out of order), provider failures, the API's PaymentIntent."""
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from catalog.tests.factories import VariantFactory
from orders.models import Order
from payments.models import LedgerEntry, Payment, PaymentEvent
from payments.money import from_minor, to_minor

pytestmark = pytest.mark.django_db

ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "12345", "shipping_country": "US",
           "shipping_method": "standard"}
WEBHOOK = "/payments/stripe/webhook/"


def test_minor_units_use_each_currencys_real_exponent():
    assert to_minor(Decimal("52.00"), "USD") == 5200
    assert to_minor(Decimal("500"), "JPY") == 500  # no minor unit
    assert to_minor(Decimal("1.250"), "KWD") == 1250  # three decimals
    assert from_minor(1250, "KWD") == Decimal("1.250") and from_minor(500, "JPY") == Decimal("500")
    with pytest.raises(ValueError):
        to_minor(Decimal("1.5"), "JPY")


def checkout(client, variant, quantity=1):
    """Add to cart, fill the details, and press "Place order and continue to payment" (not followed)."""
    client.post(reverse("orders:cart_add"), {"product": variant.product_id, "variant": variant.pk, "quantity": quantity})
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    assert b"card" not in review.content.lower().replace(b"your card details never reach", b"")
    key = review.context["form"]["idempotency_key"].value()
    return client.post(reverse("orders:checkout_review"), {"idempotency_key": key}), key


def post_event(client, fake, event, **sign):
    body, headers = fake.signed(event, **sign)
    return client.post(WEBHOOK, body, content_type="application/json",
                       headers={"Stripe-Signature": headers["Stripe-Signature"]})


@pytest.fixture
def hoodie():
    return VariantFactory(stock=5, price=Decimal("52.00"), product__name="Chaz Kangeroo Hoodie")


def test_checkout_goes_to_the_hosted_page_and_only_the_webhook_marks_it_paid(client, fake_stripe, hoodie,
                                                                             django_capture_on_commit_callbacks,
                                                                             mailoutbox):
    placed, _ = checkout(client, hoodie, 2)
    order = Order.objects.get()
    payment = order.payments.get()
    assert placed.status_code == 302 and placed["Location"] == fake_stripe.sessions[payment.session_id]["url"]
    assert order.status == Order.Status.PENDING_PAYMENT
    hoodie.refresh_from_db()
    assert hoodie.stock == 3  # held while the shopper pays
    _, params = next((p, q) for m, p, q in fake_stripe.requests if p == "/v1/checkout/sessions")
    assert params["line_items"][0]["price_data"]["unit_amount"] == str(to_minor(order.total, "USD"))
    assert "card" not in str(params).lower()

    back = client.get(reverse("orders:confirmation", args=[order.number]))  # the return before the webhook
    assert b"Payment processing" in back.content
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT

    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, fake_stripe, fake_stripe.complete_session(payment.session_id))
    assert response.status_code == 200 and response.json()["outcome"] == "order paid"
    order.refresh_from_db()
    assert order.status == Order.Status.PAID and order.payment_reference == payment.session_id.replace(
        payment.session_id, Payment.objects.get().intent_id)
    assert b"Thank you for your order" in client.get(reverse("orders:confirmation", args=[order.number])).content
    assert [m.to for m in mailoutbox] == [["gale@example.com"]]
    ledger = Payment.objects.get().totals()
    assert ledger["charged"] == order.total and ledger["balance"] == order.total
    # Stripe's fee, read from the charge's balance transaction after the success: 2.9% + 0.30
    assert order.total == Decimal("109.00") and ledger["fees"] == Decimal("3.46")
    assert ledger["net"] == Decimal("105.54")
    fee = LedgerEntry.objects.get(kind="fee")
    assert fee.reference.startswith("txn_") and fee.status == "succeeded"


@pytest.mark.parametrize("problem", ["unsigned", "wrong secret", "old", "tampered"])
def test_a_bad_or_old_signature_is_refused_with_400(client, fake_stripe, problem):
    event = fake_stripe.event("payment_intent.succeeded", {"id": "pi_x", "object": "payment_intent"})
    body, headers = fake_stripe.signed(event, secret="whsec_other" if problem == "wrong secret" else None,
                                       timestamp=int(time.time()) - 600 if problem == "old" else None)
    if problem == "tampered":
        body = body.replace(b"pi_x", b"pi_y")
    response = client.post(WEBHOOK, body, content_type="application/json",
                           headers={} if problem == "unsigned" else {"Stripe-Signature": headers["Stripe-Signature"]})
    assert response.status_code == 400 and response.json()["code"] == "bad_signature"
    assert not PaymentEvent.objects.exists()


def test_a_failure_after_a_success_changes_nothing(client, fake_stripe, hoodie):
    checkout(client, hoodie)
    payment = Payment.objects.get()
    success = fake_stripe.complete_session(payment.session_id)
    failure = fake_stripe.fail(payment.refresh_from_db() or Payment.objects.get().intent_id)
    assert post_event(client, fake_stripe, success).json()["outcome"] == "order paid"
    assert post_event(client, fake_stripe, failure).json()["outcome"] == "ignored: failure after success"
    assert post_event(client, fake_stripe, success).json()["outcome"] == "duplicate"
    assert Order.objects.get().status == Order.Status.PAID
    assert Payment.objects.get().status == Payment.Status.SUCCEEDED
    assert LedgerEntry.objects.count() == 1


@pytest.mark.parametrize("trouble", ["500", "timeout"])
def test_stripe_failing_on_create_leaves_the_order_pending_with_a_retry_button(client, fake_stripe, hoodie, trouble):
    if trouble == "500":
        fake_stripe.fail_with.append(500)
    else:
        fake_stripe.delay = 3  # > STRIPE_TIMEOUT (2 s)
    placed, key = checkout(client, hoodie)
    order = Order.objects.get()
    assert placed.status_code == 302 and placed["Location"] == reverse("orders:confirmation", args=[order.number])
    page = client.get(placed["Location"])
    assert order.status == Order.Status.PENDING_PAYMENT
    assert b"The payment service did not answer" in page.content and b"Try the payment again" in page.content
    assert Payment.objects.get().status == Payment.Status.ERROR

    fake_stripe.delay = 0
    retried = client.post(reverse("payments:retry", args=[order.number]))
    second = Payment.objects.latest("pk")
    assert retried.status_code == 302 and retried["Location"] == fake_stripe.sessions[second.session_id]["url"]
    assert second.idempotency_key() != Payment.objects.earliest("pk").idempotency_key()  # not the stored 500


def test_api_order_returns_the_payment_intents_client_secret(client, fake_stripe, hoodie,
                                                             django_capture_on_commit_callbacks):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(email="api@example.com"))
    body = {"items": [{"variant": hoodie.pk, "quantity": 1}], "shipping_method": "standard",
            "shipping_address": {"name": "A", "line1": "1 St", "city": "C", "postcode": "1", "country": "US"}}
    response = client.post("/api/v1/orders/", body, content_type="application/json", headers={"Idempotency-Key": "k1"})
    assert response.status_code == 201, response.content
    data = response.json()
    intent = fake_stripe.intents[data["payment"]["intent_id"]]
    assert data["status"] == "pending_payment" and data["payment"]["client_secret"] == intent["client_secret"]
    assert intent["amount"] == to_minor(Decimal(data["total"]), "USD")
    card = client.post("/api/v1/orders/", {**body, "card_number": "4242424242424242"},
                       content_type="application/json", headers={"Idempotency-Key": "k2"})
    assert card.status_code == 400  # no field accepts a card number
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, fake_stripe, fake_stripe.succeed(intent["id"]))
    assert client.get(f"/api/v1/orders/{data['number']}/").json()["status"] == "paid"


def test_a_fee_lost_to_a_stripe_error_is_filled_in_by_reconciliation(client, fake_stripe, hoodie,
                                                                     django_capture_on_commit_callbacks):
    from payments import services

    checkout(client, hoodie)
    payment = Payment.objects.get()
    fake_stripe.fail_with.append(500)  # the fee look-up after the webhook fails
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, fake_stripe, fake_stripe.complete_session(payment.session_id)).json()["outcome"] \
            == "order paid"
    assert Payment.objects.get().totals()["fees"] == 0 and Order.objects.get().status == Order.Status.PAID
    since = payment.created_at - timedelta(minutes=1)
    assert services.reconcile(since=since) == [f"{payment.intent_id}: already succeeded; its fee recorded"]
    assert services.reconcile(since=since) == []  # again: recorded once
    ledger = Payment.objects.get().totals()
    assert ledger["fees"] == Decimal("1.95") and ledger["net"] == Decimal("55.05")  # 57.00 paid
    assert LedgerEntry.objects.filter(kind="fee").count() == 1


def test_a_delayed_payment_method_is_paid_by_the_async_success_or_left_to_retry_by_the_async_failure(
        client, fake_stripe, hoodie):
    checkout(client, hoodie)
    payment = Payment.objects.get()
    session = fake_stripe.sessions[payment.session_id]
    session.update(status="complete", payment_status="unpaid")  # e.g. a SEPA debit, not yet cleared
    completed = fake_stripe.event("checkout.session.completed", session)
    assert post_event(client, fake_stripe, completed).json()["outcome"] == "session completed, payment not yet confirmed"
    assert Order.objects.get().status == Order.Status.PENDING_PAYMENT
    failed = fake_stripe.event("checkout.session.async_payment_failed", session)
    assert post_event(client, fake_stripe, failed).json()["outcome"] == "payment failed: declined"
    order = Order.objects.get()
    assert order.status == Order.Status.PENDING_PAYMENT
    assert b"Try the payment again" in client.get(reverse("orders:confirmation", args=[order.number])).content

    client.post(reverse("payments:retry", args=[order.number]))
    second = Payment.objects.latest("pk")
    session = fake_stripe.sessions[second.session_id]
    fake_stripe.succeed(session["payment_intent"])
    session.update(status="complete", payment_status="paid")
    succeeded = fake_stripe.event("checkout.session.async_payment_succeeded", session)
    assert post_event(client, fake_stripe, succeeded).json()["outcome"] == "order paid"
    assert Order.objects.get().status == Order.Status.PAID
    assert Payment.objects.get(pk=second.pk).totals()["charged"] == Order.objects.get().total
