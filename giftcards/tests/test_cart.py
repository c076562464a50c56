"""Gift cards in the shopper's pages: the cart's gift card form (plain POST and htmx) with a clear
reason for a card that cannot pay, the checkout summary's "Gift card ****1234 −$20.00" and "To pay",
an order paid in full by card (no payment page), the confirmation page and the admin's order page."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from giftcards.models import CartGiftCard, GiftCard
from orders.models import Order
from orders.tests.test_checkout_pages import text
from orders.tests.test_views import ADDRESS, add, checkout, hoodie  # noqa: F401 - the fixture

from .helpers import card

pytestmark = pytest.mark.django_db
D = Decimal
URL = reverse("orders:cart_gift_card")


def test_a_card_entered_without_javascript_shows_in_the_cart_and_can_be_removed(client, hoodie):
    card("20.00", code="GIFT-1234")
    add(client, hoodie)
    cart = text(client.post(URL, {"code": "gift 1234"}, follow=True))
    assert "Gift card ****1234 added: it pays up to $20.00 at checkout." in cart
    assert "Gift card ****1234 balance $20.00" in cart
    card_id = GiftCard.objects.get().pk
    removed = text(client.post(URL, {"remove": card_id}, follow=True))
    assert "Gift card removed." in removed and "****1234 balance" not in removed
    assert not CartGiftCard.objects.exists()


@pytest.mark.parametrize(("setup", "code", "reason"), [
    (lambda: None, "WRONG-CODE", "WRONG-CODE is not a valid gift card code."),
    (lambda: card("5.00", code="OLD-9999", expires_at=timezone.now() - timedelta(days=1)), "old-9999",
     "Gift card ****9999 expired on"),
    (lambda: card("5.00", code="EUR-7777", currency="EUR"), "EUR-7777",
     "Gift card ****7777 is in EUR; this shop charges in USD."),
    (lambda: GiftCard.objects.filter(pk=card("5.00", code="NIL-0000").pk).update(balance=0), "NIL-0000",
     "Gift card ****0000 has no balance left."),
    (lambda: None, "", "Enter a gift card code."),
])
def test_a_card_that_cannot_pay_gets_its_reason_with_and_without_javascript(client, hoodie, setup, code, reason):
    setup()
    add(client, hoodie)
    assert reason in text(client.post(URL, {"code": code}, follow=True))
    fragment = client.post(URL, {"code": code}, HTTP_HX_REQUEST="true")
    assert fragment.status_code == 200 and "<html" not in fragment.content.decode()
    assert reason in text(fragment) and 'aria-invalid="true"' in fragment.content.decode()
    assert not CartGiftCard.objects.exists()


def test_htmx_adds_a_card_and_sends_back_only_the_panel(client, hoodie):
    card("20.00", code="HTMX-5678")
    add(client, hoodie)
    fragment = client.post(URL, {"code": "htmx-5678"}, HTTP_HX_REQUEST="true")
    page = fragment.content.decode()
    assert page.lstrip().startswith('<div id="gift-cards"') and "****5678" in page
    assert "it pays up to $20.00 at checkout" in text(fragment)


def test_checkout_shows_each_card_and_what_is_left_to_pay_then_charges_only_that(client, hoodie):
    card("20.00", code="PART-1234")
    add(client, hoodie)  # $52 + $5 shipping
    client.post(URL, {"code": "PART-1234"})
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    summary = review.context["summary"]
    assert summary.total == D("57.00") and summary.to_pay == D("37.00")
    page = text(review)
    assert "Gift card ****1234 −$20.00" in page and "To pay $37.00" in page
    assert "Place order and continue to payment ($37.00)" in page
    _, done, _ = checkout(client)
    order = Order.objects.get()
    assert order.status == Order.Status.PAID and order.total == D("57.00")
    assert order.payments.get().amount == D("37.00")
    confirmation = text(done)
    assert "Gift card ****1234 −$20.00" in confirmation and "To pay $37.00" in confirmation
    assert GiftCard.objects.get().balance == D("0.00") and not CartGiftCard.objects.exists()


def test_an_order_paid_in_full_by_card_skips_the_payment_page(client, hoodie):
    card("100.00", code="FULL-0001")
    add(client, hoodie)
    client.post(URL, {"code": "FULL-0001"})
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    assert "Place order (paid by gift card)" in text(review)
    key = review.context["form"]["idempotency_key"].value()
    placed = client.post(reverse("orders:checkout_review"), {"idempotency_key": key}, follow=True)
    order = Order.objects.get()
    assert placed.redirect_chain[-1][0] == reverse("orders:confirmation", args=[order.number])
    assert order.status == Order.Status.PAID and not order.payments.exists()
    assert "To pay $0.00" in text(placed) and GiftCard.objects.get().balance == D("43.00")


def test_a_card_spent_elsewhere_before_checkout_sends_the_shopper_back_to_the_cart(client, hoodie):
    card("10.00", code="GONE-0001")
    add(client, hoodie)
    client.post(URL, {"code": "GONE-0001"})
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    GiftCard.objects.update(balance=0)
    key = review.context["form"]["idempotency_key"].value()
    placed = client.post(reverse("orders:checkout_review"), {"idempotency_key": key}, follow=True)
    assert placed.redirect_chain[-1][0] == reverse("orders:cart")
    assert "Gift card ****0001 has no balance left." in text(placed) and not Order.objects.exists()


def test_the_admin_order_page_shows_the_gift_card_part(client, hoodie):
    card("20.00", code="ADMIN-4321")
    add(client, hoodie)
    client.post(URL, {"code": "ADMIN-4321"})
    checkout(client)
    order = Order.objects.get()
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x-long-password-1"))
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    assert "Gift card ****4321 −20.00" in text(page) and "To pay 37.00 USD" in text(page)
    listing = client.get(reverse("admin:giftcards_giftcard_change", args=[GiftCard.objects.get().pk]))
    assert listing.status_code == 200 and "Spent on an order" in text(listing)


def test_guessing_codes_stops_after_ten_wrong_ones_for_that_client(client, hoodie):
    card("20.00", code="GIFT-1234")
    add(client, hoodie)
    for attempt in range(10):
        assert "is not a valid gift card code" in text(client.post(URL, {"code": f"GUESS-{attempt:04d}"}, follow=True))
    refused = text(client.post(URL, {"code": "GIFT-1234"}, follow=True))  # even the right one, for an hour
    assert "Too many wrong gift card codes: try again in an hour." in refused
    assert not CartGiftCard.objects.exists()
    other = type(client)(REMOTE_ADDR="203.0.113.9")  # another shopper, elsewhere, is not held back
    add(other, hoodie)
    assert "Gift card ****1234 added" in text(other.post(URL, {"code": "GIFT-1234"}, follow=True))
