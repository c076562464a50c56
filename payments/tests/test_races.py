"""Payment races with real threads on PostgreSQL (transaction=True: every thread commits for real,
so the row locks and unique constraints are what is tested)."""
import json
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import services as orders
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from orders.tests.test_concurrency import run_concurrently
from outbox.models import Message
from payments import services
from payments.models import LedgerEntry, Payment, PaymentEvent
from payments.money import to_minor
from payments.providers.test import sign, webhook_secret

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)"),
]
WEBHOOK = "/payments/stripe/webhook/"


def pending_order(variant, quantity=1, key="k"):
    order = orders.place_order(cart=cart_with((variant, quantity)), customer=None, details=checkout_details(),
                               payment_provider="test", idempotency_key=key)
    return order, services.start_payment(order=order, flow="intent")


def success_event(payment, event_id="evt_same"):
    return {"id": event_id, "object": "event", "type": "payment_intent.succeeded", "data": {"object": {
        "id": payment.intent_id, "object": "payment_intent", "amount": to_minor(payment.amount, payment.currency),
        "amount_received": to_minor(payment.amount, payment.currency),
        "metadata": {"order_number": payment.order.number, "payment_id": str(payment.pk)}}}}


def post(event):
    body = json.dumps(event).encode()
    response = Client().post(WEBHOOK, body, content_type="application/json",
                             headers={"Stripe-Signature": sign(body, webhook_secret())})
    assert response.status_code == 200, response.content
    return response.json()["outcome"]


def test_twenty_concurrent_copies_of_one_webhook_record_one_payment():
    variant = VariantFactory(stock=5, price=Decimal("52.00"))
    order, payment = pending_order(variant)
    event = success_event(payment)
    # One request first: the middleware's metrics get registered once, not by 20 threads at a time.
    assert Client().post(WEBHOOK, b"{}", content_type="application/json").status_code == 400

    outcomes = run_concurrently([lambda: post(event)] * 20)

    assert [error for _, error in outcomes if error] == []
    print(f"RACE 20 concurrent webhooks: {sorted(result for result, _ in outcomes).count('order paid')} 'order paid', "
          f"{[r for r, _ in outcomes].count('duplicate')} 'duplicate'; PaymentEvent rows {PaymentEvent.objects.count()}, "
          f"ledger rows {LedgerEntry.objects.count()}")
    assert sorted(result for result, _ in outcomes) == ["duplicate"] * 19 + ["order paid"]
    assert Order.objects.get().status == Order.Status.PAID
    assert PaymentEvent.objects.count() == 1 and LedgerEntry.objects.count() == 1
    assert Message.objects.filter(kind="orders.order_email", payload__event="confirmation").count() == 1
    assert Order.objects.get().status_changes.filter(to_status="paid").count() == 1


def test_the_webhook_racing_the_return_redirect():
    variant = VariantFactory(stock=5, price=Decimal("52.00"))
    shopper = Client()
    shopper.post(reverse("orders:cart_add"), {"product": variant.product_id, "variant": variant.pk, "quantity": 1})
    shopper.post(reverse("orders:checkout"), {"email": "r@example.com", "shipping_name": "R", "shipping_line1": "1 St",
                                              "shipping_city": "C", "shipping_postcode": "1", "shipping_country": "US",
                                              "shipping_method": "standard"})
    review = shopper.get(reverse("orders:checkout_review"))
    shopper.post(reverse("orders:checkout_review"), {"idempotency_key": review.context["form"]["idempotency_key"].value()})
    order, payment = Order.objects.get(), Payment.objects.get()
    page = reverse("orders:confirmation", args=[order.number])

    def return_page():
        return shopper.get(page).content.decode()

    outcomes = run_concurrently([lambda: post(success_event(payment)), *[return_page] * 6])

    assert [error for _, error in outcomes if error] == []
    assert outcomes[0][0] == "order paid"
    print("RACE webhook vs 6 return pages:", sum("Payment processing" in html for html, _ in outcomes[1:]),
          "showed processing,", sum("Thank you for your order" in html for html, _ in outcomes[1:]), "showed paid")
    for html, _ in outcomes[1:]:  # each return shows one consistent state
        assert ("Payment processing" in html) != ("Thank you for your order" in html)
    assert "Thank you for your order" in return_page()
    assert Order.objects.get().status_changes.filter(to_status="paid").count() == 1


def test_expiry_racing_a_late_success_never_oversells(settings):
    settings.SHOP_PAYMENT_TIMEOUT = 60
    for attempt in range(3):
        variant = VariantFactory(stock=1, price=Decimal("30.00"))
        late, payment = pending_order(variant, key=f"late-{attempt}")
        Order.objects.filter(pk=late.pk).update(created_at=late.created_at - timedelta(seconds=120))
        rival_cart = cart_with((variant, 1))

        def rival():
            try:
                return orders.place_order(cart=rival_cart, customer=None, details=checkout_details(),
                                          payment_provider="test", idempotency_key=f"rival-{attempt}")
            except orders.InsufficientStock:
                return None

        run_concurrently([services.expire_unpaid_orders, rival,
                          lambda: services.apply_event(success_event(payment, f"evt-{attempt}"), provider="test")])

        variant.refresh_from_db()
        late.refresh_from_db()
        holders = Order.objects.filter(lines__variant=variant).exclude(status=Order.Status.CANCELLED)
        print(f"RACE expiry vs late success, attempt {attempt}: late order {late.status}, stock {variant.stock}, "
              f"orders holding the unit {holders.count()}, refunded "
              f"{Payment.objects.get(pk=payment.pk).totals()['refunded']}")
        assert variant.stock == 0 and holders.count() == 1  # one unit, one order holding it
        if late.status == Order.Status.PAID:
            assert Payment.objects.get(pk=payment.pk).totals()["refunded"] == 0
        else:  # the rival took the unit after the expiry: the late payment is refunded at once
            assert late.status == Order.Status.CANCELLED
            refund = LedgerEntry.objects.get(payment=payment, kind="refund")
            assert (refund.status, refund.amount) == ("succeeded", late.total)
            assert Message.objects.filter(kind="orders.order_email", payload={"order_id": late.pk, "event": "refunded"})


def test_late_success_after_expiry_takes_the_stock_again_or_refunds(settings):
    settings.SHOP_PAYMENT_TIMEOUT = 60
    variant = VariantFactory(stock=1, price=Decimal("30.00"))
    late, payment = pending_order(variant, key="again")
    Order.objects.filter(pk=late.pk).update(created_at=late.created_at - timedelta(seconds=120))
    assert services.expire_unpaid_orders() == [late.number]
    assert Variant.objects.get(pk=variant.pk).stock == 1
    assert services.apply_event(success_event(payment, "evt-a"), provider="test").startswith("paid after expiry: stock")
    assert Order.objects.get(pk=late.pk).status == Order.Status.PAID and Variant.objects.get(pk=variant.pk).stock == 0

    gone, payment = pending_order(variant := VariantFactory(stock=1), key="gone")
    Order.objects.filter(pk=gone.pk).update(created_at=gone.created_at - timedelta(seconds=120))
    services.expire_unpaid_orders()
    orders.place_order(cart=cart_with((variant, 1)), customer=None, details=checkout_details(),
                       payment_provider="test", idempotency_key="taker")
    assert "refunded at once" in services.apply_event(success_event(payment, "evt-b"), provider="test")
    assert Variant.objects.get(pk=variant.pk).stock == 0
    assert Payment.objects.get(pk=payment.pk).totals()["balance"] == 0


def test_partial_then_full_and_two_concurrent_refunds_never_exceed_what_was_paid():
    variant = VariantFactory(stock=5, price=Decimal("52.00"))
    order, payment = pending_order(variant)
    services.apply_event(success_event(payment), provider="test")
    total = Order.objects.get().total

    services.refund(payment=payment, amount=Decimal("10.00"), key="partial")
    assert services.refund(payment=payment, amount=Decimal("10.00"), key="partial").amount == Decimal("10.00")  # replay
    rest = total - Decimal("10.00")

    outcomes = run_concurrently([lambda: services.refund(payment=payment, amount=rest, key="full-a"),
                                 lambda: services.refund(payment=payment, amount=rest, key="full-b")])

    done = [result for result, error in outcomes if result is not None]
    refused = [error for result, error in outcomes if error is not None]
    print(f"RACE two concurrent refunds of the {rest} left: {len(done)} done, {len(refused)} refused; refunded "
          f"{Payment.objects.get().totals()['refunded']} of {total} paid")
    assert len(done) == 1 and len(refused) == 1 and isinstance(refused[0], services.RefundRefused)
    totals = Payment.objects.get().totals()
    assert totals["refunded"] == total and totals["balance"] == 0
    assert Order.objects.get().status == Order.Status.REFUNDED
    assert Variant.objects.get(pk=variant.pk).stock == 5  # refunded in full: stock back
    with pytest.raises(services.RefundRefused):
        services.refund(payment=payment, amount=Decimal("0.01"), key="more")


def test_reconciliation_fixes_a_lost_succeeded_and_a_lost_refunded(fake_stripe):
    variant = VariantFactory(stock=5, price=Decimal("52.00"))
    lost_paid, paid_payment = pending_order(variant, key="lost-paid")
    lost_refund, refund_payment = pending_order(variant, key="lost-refund")
    fake_stripe.succeed(paid_payment.intent_id)  # the webhook never arrives
    services.apply_event(fake_stripe.succeed(refund_payment.intent_id), provider="stripe")
    fake_stripe.api("POST", "/v1/refunds", {"payment_intent": refund_payment.intent_id}, None)  # refunded in the dashboard

    out = StringIO()
    call_command("reconcile_payments", "--since", "48h", stdout=out)

    print("RACE reconciliation:", " | ".join(out.getvalue().strip().splitlines()))
    assert f"{paid_payment.intent_id}: order paid" in out.getvalue()
    assert "refund of" in out.getvalue() and "2 change(s)." in out.getvalue()
    assert Order.objects.get(pk=lost_paid.pk).status == Order.Status.PAID
    assert Order.objects.get(pk=lost_refund.pk).status == Order.Status.REFUNDED
    call_command("reconcile_payments", "--since", "48h", stdout=(again := StringIO()))
    assert "0 change(s)." in again.getvalue()
