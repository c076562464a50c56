"""Staff issue and adjust gift cards in the admin: a generated code unless one is typed, the ledger
read-only on the card's page, an adjustment needs a reason and never takes the balance below zero."""
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import User
from giftcards.models import GiftCard
from orders.tests.test_checkout_pages import text

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    return client


def test_staff_issue_a_card_with_a_generated_code_and_adjust_it(staff_client):
    add = reverse("admin:giftcards_giftcard_add")
    assert staff_client.get(add).status_code == 200
    done = staff_client.post(add, {"code": "", "initial_balance": "25.00", "currency": "USD",
                                   "recipient_email": "", "expires_at_0": "", "expires_at_1": "",
                                   "transactions-TOTAL_FORMS": "0", "transactions-INITIAL_FORMS": "0"}, follow=True)
    card = GiftCard.objects.get()
    assert len(card.code) == 16 and card.balance == D("25.00") and card.issued_by.email == "boss@example.com"
    assert card.masked_code in text(done)
    found = staff_client.get(reverse("admin:giftcards_giftcard_changelist"), {"q": card.grouped_code.lower()})
    assert card.masked_code in text(found)
    change = reverse("admin:giftcards_giftcard_change", args=[card.pk])
    page = text(staff_client.get(change))
    assert "Issued by staff." in page and "Issued" in page

    form = {"is_active": "on", "recipient_email": "", "expires_at_0": "", "expires_at_1": "",
            "transactions-TOTAL_FORMS": "1", "transactions-INITIAL_FORMS": "1",
            "transactions-0-id": str(card.transactions.get().pk), "transactions-0-card": str(card.pk)}
    no_reason = staff_client.post(change, {**form, "adjustment": "-5.00"})
    assert no_reason.status_code == 200 and "Say why the balance changes." in text(no_reason)
    staff_client.post(change, {**form, "adjustment": "-5.00", "adjustment_note": "paid in the shop"})
    card.refresh_from_db()
    assert card.balance == D("20.00")
    too_much = staff_client.post(change, {**form, "adjustment": "-20.01", "adjustment_note": "oops"}, follow=True)
    assert "The card has only 20.00 USD left." in text(too_much)
    card.refresh_from_db()
    assert card.balance == D("20.00") and card.transactions.count() == 2
    assert staff_client.post(reverse("admin:giftcards_giftcard_delete", args=[card.pk])).status_code == 403


def test_the_order_admin_refunds_the_payment_then_the_gift_cards(staff_client):
    from payments.models import LedgerEntry
    from payments.testing import pay

    from .helpers import card, place

    gift = card("20.00", code="ADMN-0001")
    order = pay(place("ADMN-0001"))
    done = staff_client.post(reverse("admin:orders_order_changelist"),
                             {"action": "refund_money", "_selected_action": [order.pk]}, follow=True)
    assert f"{order.number}: refunded 45.00 USD (20.00 to gift cards)." in text(done)
    gift.refresh_from_db()
    assert gift.balance == D("20.00")
    assert LedgerEntry.objects.get(kind="refund").amount == D("25.00")
    order.refresh_from_db()
    assert order.status == "refunded"
