"""Refunds from the staff API and the admin, and the admin's payment pages (test provider)."""
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.tests.factories import VariantFactory
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from payments.models import LedgerEntry, Payment
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return User.objects.create_superuser(email="boss@example.com", password="x-long-password-1")


@pytest.fixture
def order():
    tee = VariantFactory(sku="TEE-M", price=Decimal("20.00"), stock=5)
    return place_paid_order(cart=cart_with((tee, 2)), customer=None, details=checkout_details(), idempotency_key="r")


def refund(user, number, body, key):
    client = APIClient()
    client.force_authenticate(user)
    return client.post(f"/api/v1/admin/orders/{number}/refund", body, format="json", HTTP_IDEMPOTENCY_KEY=key)


def test_staff_refund_by_line_then_amount_never_more_than_paid(staff, order):
    assert order.total == Decimal("45.00")  # 2 x 20 + 5 shipping
    by_line = refund(staff, order.number, {"lines": [{"sku": "TEE-M", "quantity": 1}]}, "a")
    assert by_line.status_code == 200 and by_line.json()["amount"] == "20.00"
    assert refund(staff, order.number, {"lines": [{"sku": "TEE-M", "quantity": 1}]}, "a").json() == by_line.json()
    too_much = refund(staff, order.number, {"amount": "25.01"}, "b")
    assert too_much.status_code == 409 and too_much.json()["code"] == "refund_refused"
    rest = refund(staff, order.number, {}, "c")  # the balance
    assert rest.status_code == 200 and rest.json()["amount"] == "25.00" and rest.json()["ledger"]["balance"] == "0.00"
    assert Order.objects.get().status == Order.Status.REFUNDED
    assert refund(staff, order.number, {"amount": "1.00"}, "d").status_code == 409
    assert refund(UserFactory(), order.number, {"amount": "1.00"}, "e").status_code == 403


def test_admin_shows_payments_with_ledger_and_events_and_refunds_the_balance(client, staff, order):
    client.force_login(staff)
    payment = Payment.objects.get()
    page = client.get(f"/admin/payments/payment/{payment.pk}/change/").content.decode()
    assert payment.intent_id in page and "charged 45.00" in page and "payment_intent.succeeded" in page
    listing = client.get("/admin/payments/payment/", {"q": order.number}).content.decode()
    assert order.number in listing
    done = client.post("/admin/payments/payment/", {"action": "refund_in_full", "_selected_action": [payment.pk]},
                       follow=True)
    assert "refunded 45.00 USD" in done.content.decode()
    assert LedgerEntry.objects.filter(kind="refund", status="succeeded").get().amount == Decimal("45.00")
    assert Order.objects.get().status == Order.Status.REFUNDED


def test_the_stripe_dashboard_link():
    assert Payment(provider="stripe", intent_id="pi_1").dashboard_url == "https://dashboard.stripe.com/payments/pi_1"
    assert Payment(provider="test", intent_id="pi_test_1").dashboard_url == ""


def test_a_refund_by_line_gives_back_what_the_line_was_charged_after_voucher_and_tax(staff, settings):
    """Net prices with 8 % tax and 10 % off: a line of 2 x $20.00 was charged 40 - 4 + 2.88 = $38.88,
    so one unit refunds $19.44 and the other the rest, never the $20.00 list price."""
    from promotions.models import TaxRate, Voucher
    settings.SHOP_PRICES_INCLUDE_TAX = False
    TaxRate.objects.create(country="US", tax_class="standard", rate=Decimal("0.08"), name="Sales tax")
    Voucher.objects.create(code="TEN", kind=Voucher.Kind.PERCENTAGE, value=Decimal("10"))
    cart = cart_with((VariantFactory(sku="TEE-M", price=Decimal("20.00"), stock=5), 2))
    cart.voucher_code = "TEN"
    cart.save()
    order = place_paid_order(cart=cart, customer=None, details=checkout_details(), idempotency_key="t")
    line = order.lines.get()
    assert (line.discount, line.tax) == (Decimal("4.00"), Decimal("2.88"))
    first = refund(staff, order.number, {"lines": [{"sku": "TEE-M", "quantity": 1}]}, "a")
    assert first.status_code == 200 and first.json()["amount"] == "19.44"
    both = refund(staff, order.number, {"lines": [{"sku": "TEE-M", "quantity": 2}]}, "b")
    assert both.status_code == 409  # only $19.44 of the line is left: the whole line's $38.88 is refused
