"""Gift cards through the API: the staff /api/v1/gift-cards/ (issue, list, block, adjust, staff
only) and POST /api/v1/orders/ with `gift_card_codes` (the card pays part, the PaymentIntent the
rest; a card that cannot pay is a 400 naming the field with the reason), and staff refunds."""
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.tests.factories import VariantFactory
from giftcards.models import GiftCard
from orders.models import Order
from orders.tests.test_api_orders import client_for, order_body

from .helpers import card

pytestmark = pytest.mark.django_db
D = Decimal
CARDS = "/api/v1/gift-cards/"
ORDERS = "/api/v1/orders/"


@pytest.fixture
def boss():
    return User.objects.create_superuser(email="boss@example.com", password="x-long-password-1")


@pytest.fixture
def staff(boss) -> APIClient:
    return client_for(boss)


@pytest.fixture
def tee():
    return VariantFactory(price=D("20.00"), stock=10)


def test_staff_issue_list_block_and_adjust_cards(staff):
    created = staff.post(CARDS, {"amount": "50.00", "code": "welcome 2026", "recipient_email": "a@example.com"},
                         format="json")
    assert created.status_code == 201, created.json()
    body = created.json()
    assert (body["code"], body["balance"], body["initial_balance"], body["currency"]) == \
        ("WELCOME2026", "50.00", "50.00", "USD")
    assert [(t["kind"], t["amount"], t["balance_after"]) for t in body["transactions"]] == [("issue", "50.00", "50.00")]
    generated = staff.post(CARDS, {"amount": "10"}, format="json").json()
    assert len(generated["code"]) == 16
    assert [c["code"] for c in staff.get(CARDS).json()["results"]] == [generated["code"], "WELCOME2026"]

    taken = staff.post(CARDS, {"amount": "5", "code": "Welcome2026"}, format="json")
    assert taken.status_code == 400 and taken.json()["fields"]["code"] == ["A gift card with this code exists."]
    no_amount = staff.post(CARDS, {"code": "NOAMOUNT"}, format="json")
    assert no_amount.json()["fields"] == {"amount": ["Give the card's value."]}

    url = f"{CARDS}{body['id']}/"
    patched = staff.patch(url, {"is_active": False}, format="json").json()
    assert patched["is_active"] is False and patched["source_order"] is None  # the whole card, as documented
    fixed = staff.patch(url, {"amount": "999"}, format="json")
    assert fixed.status_code == 400 and "amount" in fixed.json()["fields"]
    adjusted = staff.post(f"{url}adjust/", {"amount": "-20.00", "note": "spent in the shop"}, format="json")
    assert adjusted.status_code == 200 and adjusted.json()["balance"] == "30.00"
    below = staff.post(f"{url}adjust/", {"amount": "-30.01", "note": "too much"}, format="json")
    assert below.status_code == 400 and "only 30.00" in below.json()["fields"]["amount"][0]
    assert GiftCard.objects.get(code="WELCOME2026").balance == D("30.00")


def test_gift_cards_are_staff_only(staff):
    gift = card("5.00")
    for client in (APIClient(), client_for(UserFactory())):
        assert client.get(CARDS).status_code in (401, 403)
        assert client.post(CARDS, {"amount": "5"}, format="json").status_code in (401, 403)
        assert client.get(f"{CARDS}{gift.pk}/").status_code in (401, 403)


def test_an_order_paid_partly_by_gift_cards(tee):
    card("10.00", code="API-0010"), card("50.00", code="API-0050")
    client = client_for(UserFactory(email="ann@example.com"))
    body = order_body((tee, 2), gift_card_codes=["api-0010", "API-0050"])  # $45.00: 10 + 35, nothing left
    response = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY="gift-1")
    assert response.status_code == 201, response.json()
    order = response.json()
    assert order["total"] == "45.00" and order["status"] == "paid" and order["payment"] is None
    assert order["gift_cards"] == [{"code": "****0010", "amount": "10.00"}, {"code": "****0050", "amount": "35.00"}]
    assert order["to_pay"] == "0.00"

    card("5.00", code="API-0005")
    partly = client.post(ORDERS, order_body((tee, 1), gift_card_codes=["API-0005"]), format="json",
                         HTTP_IDEMPOTENCY_KEY="gift-2").json()
    assert partly["status"] == "pending_payment" and partly["total"] == "25.00" and partly["to_pay"] == "20.00"
    assert partly["payment"]["amount"] == "20.00"  # the PaymentIntent asks for what is left


@pytest.mark.parametrize(("code", "reason"), [
    ("NOPE", "NOPE is not a valid gift card code."),
    ("EMPTY-Y001", "Gift card ****Y001 has no balance left."),
    ("EURO-0001", "Gift card ****0001 is in EUR; this shop charges in USD."),
])
def test_a_card_that_cannot_pay_is_a_400_with_the_reason(tee, code, reason):
    from giftcards.services import adjust_card

    adjust_card(card=card("5.00", code="EMPTY-Y001"), amount=D("-5.00"), note="spent")
    card("5.00", code="EURO-0001", currency="EUR")
    client = client_for(UserFactory())
    response = client.post(ORDERS, order_body((tee, 1), gift_card_codes=[code]), format="json",
                           HTTP_IDEMPOTENCY_KEY="bad")
    assert response.status_code == 400
    assert response.json()["code"] == "gift_card_not_applicable"
    assert response.json()["fields"] == {"gift_card_codes": [reason]}
    assert not Order.objects.exists()


def test_staff_refund_of_an_order_paid_by_card_alone_returns_to_the_card(staff, tee):
    gift = card("100.00", code="REFUND-01")
    client = client_for(UserFactory())
    number = client.post(ORDERS, order_body((tee, 1), gift_card_codes=["REFUND-01"]), format="json",
                         HTTP_IDEMPOTENCY_KEY="r").json()["number"]
    refund = staff.post(f"/api/v1/admin/orders/{number}/refund", {}, format="json", HTTP_IDEMPOTENCY_KEY="all")
    assert refund.status_code == 200, refund.json()
    assert refund.json()["amount"] == "25.00" and refund.json()["to_gift_cards"] == "25.00"
    assert refund.json()["refund_id"] is None
    gift.refresh_from_db()
    assert gift.balance == D("100.00") and Order.objects.get().status == Order.Status.REFUNDED
    again = staff.post(f"/api/v1/admin/orders/{number}/refund", {}, format="json", HTTP_IDEMPOTENCY_KEY="more")
    assert again.status_code == 409
