"""Gift cards as a shopper and the shop's books see them: issued with a ledger, spent at checkout as
part payment (the total and tax unchanged), given back when an unpaid order is voided, and refunded
after the provider's part (issue 26)."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from giftcards import selectors, services
from giftcards.models import GiftCard, GiftCardTransaction
from orders import services as orders
from orders.models import Order
from outbox.models import Message
from payments import services as payments
from payments.models import Payment
from payments.testing import pay
from promotions.models import Voucher

from .helpers import card, place

pytestmark = pytest.mark.django_db
D = Decimal


def ledger(gift_card) -> list[tuple[str, Decimal, Decimal]]:
    return list(gift_card.transactions.order_by("pk").values_list("kind", "amount", "balance_after"))


def test_a_card_is_issued_with_its_ledger_and_found_in_any_case():
    issued = card("50.00", code="spring gift 2026")
    assert issued.code == "SPRINGGIFT2026" and issued.balance == D("50.00") and issued.currency == "USD"
    assert ledger(issued) == [("issue", D("50.00"), D("50.00"))]
    assert services.usable_card(" springgift2026 ") == issued
    assert issued.masked_code == "****2026"
    generated = card("10.00")
    assert len(generated.code) == 16 and generated.code.isalnum()
    assert services.usable_card(generated.grouped_code.lower()) == generated  # as the email prints it
    with pytest.raises(services.GiftCardError, match="exists"):
        card("5.00", code="SpringGift2026")


@pytest.mark.parametrize(("setup", "reason"), [
    (lambda: None, "NOPE-1234 is not a valid gift card code."),
    (lambda: GiftCard.objects.filter(pk=card("5.00", code="NOPE-1234").pk).update(is_active=False),
     "NOPE-1234 is not a valid gift card code."),
    (lambda: card("5.00", code="NOPE-1234", expires_at=timezone.now() - timedelta(days=1)),
     "Gift card ****1234 expired on"),
    (lambda: card("5.00", code="NOPE-1234", currency="EUR"),
     "Gift card ****1234 is in EUR; this shop charges in USD."),
    (lambda: services.adjust_card(card=card("5.00", code="NOPE-1234"), amount=D("-5.00"), note="used in store"),
     "Gift card ****1234 has no balance left."),
])
def test_a_card_that_cannot_pay_says_why(setup, reason):
    setup()
    with pytest.raises(services.GiftCardError) as problem:
        services.usable_card("nope-1234")
    assert str(problem.value).startswith(reason)


def test_a_card_pays_part_of_the_order_and_the_provider_is_asked_for_the_rest():
    gift = card("30.00", code="GIFT-0030")
    order = place("gift-0030")
    assert order.total == D("45.00") and order.tax_total == D("0") and order.discount_total == D("0")  # unchanged
    assert order.status == Order.Status.PENDING_PAYMENT
    gift.refresh_from_db()
    assert gift.balance == D("0.00") and ledger(gift)[-1] == ("spend", D("-30.00"), D("0.00"))
    assert selectors.amount_to_pay(order) == D("15.00")
    paid = pay(order)
    assert paid.status == Order.Status.PAID and Payment.objects.get().amount == D("15.00")


def test_two_cards_and_a_voucher_pay_exactly_the_total(django_capture_on_commit_callbacks):
    """saleor#13640: balances went wrong with two cards or with a voucher. 10 % off $40 of goods
    + $5 shipping = $41.00; card A ($20) pays 20, card B ($100) pays the other 21 and keeps 79."""
    Voucher.objects.create(code="SPRING10", kind="percentage", value=D("10"))
    first, second = card("20.00", code="CARD-AAAA"), card("100.00", code="CARD-BBBB")
    with django_capture_on_commit_callbacks(execute=True):
        order = place("CARD-AAAA", "card-bbbb", voucher="SPRING10")
    first.refresh_from_db(), second.refresh_from_db()
    assert order.discount_total == D("4.00") and order.total == D("41.00")
    assert (first.balance, second.balance) == (D("0.00"), D("79.00"))
    plan = selectors.order_plan(order)
    assert [(c.masked_code, c.amount) for c in plan.charges] == [("****AAAA", D("20.00")), ("****BBBB", D("21.00"))]
    assert plan.total == order.total and plan.to_pay == D("0")
    # Paid in full by the cards: paid at once on the webhook's path (timeline, confirmation email), no provider.
    assert order.status == Order.Status.PAID and order.payment_reference == "gift-card"
    assert not Payment.objects.exists()
    assert order.status_changes.last().note == "Paid in full by gift card."
    assert Message.objects.filter(kind="orders.order_email", payload__event="confirmation").exists()
    confirmation, = mail.outbox
    assert "Total: $41.00\nGift card ****AAAA: -$20.00\nGift card ****BBBB: -$21.00\nTo pay: $0.00" \
        in confirmation.body
    # The ledgers add up to the balances.
    for gift in (first, second):
        assert sum(gift.transactions.values_list("amount", flat=True)) == gift.balance


def test_a_card_is_spent_once_even_when_listed_twice_and_a_third_card_is_not_touched():
    first, spare = card("50.00", code="ONE-1111"), card("50.00", code="TWO-2222")
    order = place("ONE-1111", "one-1111", "TWO-2222")
    first.refresh_from_db(), spare.refresh_from_db()
    assert first.balance == D("5.00") and spare.balance == D("50.00")
    assert order.status == Order.Status.PAID and selectors.paid_by_cards(order) == D("45.00")


def test_a_card_that_cannot_pay_at_checkout_places_no_order_and_spends_nothing():
    good = card("10.00", code="GOOD-0001")
    card("10.00", code="OLD-0002", expires_at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(services.GiftCardError, match="expired"):
        place("GOOD-0001", "OLD-0002")
    good.refresh_from_db()
    assert good.balance == D("10.00") and not Order.objects.exists()
    assert ledger(good) == [("issue", D("10.00"), D("10.00"))]


def test_a_voided_or_expired_unpaid_order_gives_the_card_its_money_back(settings):
    gift = card("40.00", code="BACK-0001")
    order = place("BACK-0001")
    orders.void_order(order=order, reason="declined")
    orders.void_order(order=order, reason="declined again")  # nothing more
    gift.refresh_from_db()
    assert gift.balance == D("40.00")
    assert [kind for kind, *_ in ledger(gift)] == ["issue", "spend", "refund"]

    second = place("BACK-0001", key="k2")
    Order.objects.filter(pk=second.pk).update(created_at=timezone.now() - timedelta(hours=2))
    settings.SHOP_PAYMENT_TIMEOUT = 60
    assert payments.expire_unpaid_orders() == [second.number]
    gift.refresh_from_db()
    assert gift.balance == D("40.00")


def test_staff_cancelling_an_unpaid_order_gives_the_card_back():
    gift = card("10.00", code="STAFF-001")
    order = place("STAFF-001")
    orders.cancel_order(order=order)
    gift.refresh_from_db()
    assert gift.balance == D("10.00")


def test_a_late_payment_after_expiry_spends_the_card_again():
    gift = card("10.00", code="LATE-0001")
    order = place("LATE-0001")
    payment = payments.start_payment(order=order, flow="intent")
    assert payment.amount == D("35.00")
    orders.void_order(order=order, reason="expired")
    orders.revive_paid_order(order=Order.objects.get(pk=order.pk), reference="pi_late")
    gift.refresh_from_db()
    assert gift.balance == D("0.00") and Order.objects.get(pk=order.pk).status == Order.Status.PAID
    assert selectors.paid_by_cards(order) == D("10.00")  # counted once


def test_refunds_go_to_the_provider_first_and_the_card_last():
    """$45 order: card $20, provider $25. A $30 refund gives the shopper's $25 back through the
    provider and $5 to the card; the rest ($15) goes to the card and the order is refunded."""
    gift = card("20.00", code="REF-0001")
    order = pay(place("REF-0001"))
    first = payments.refund_order(order=order, amount=D("30.00"), key="one")
    assert first.entry.amount == D("25.00") and [t.amount for t in first.to_cards] == [D("5.00")]
    assert payments.refund_order(order=order, amount=D("30.00"), key="one").amount == D("30.00")  # same key: same
    gift.refresh_from_db()
    assert gift.balance == D("5.00") and Order.objects.get(pk=order.pk).status == Order.Status.PAID
    with pytest.raises(payments.RefundRefused, match="at most the 15.00"):
        payments.refund_order(order=order, amount=D("15.01"), key="two")
    payments.refund_order(order=order, amount=D("15.00"), key="three")
    gift.refresh_from_db()
    assert gift.balance == D("20.00") and Order.objects.get(pk=order.pk).status == Order.Status.REFUNDED
    assert [kind for kind, *_ in ledger(gift)] == ["issue", "spend", "refund", "refund"]


def test_an_order_paid_by_two_cards_refunds_the_last_card_first():
    first, second = card("30.00", code="TWO-0001"), card("30.00", code="TWO-0002")
    order = place("TWO-0001", "TWO-0002")  # 30 + 15: paid; balances 0 and 15
    payments.refund_order(order=order, amount=D("20.00"), key="r")  # 15 back to the second, 5 to the first
    first.refresh_from_db(), second.refresh_from_db()
    assert (first.balance, second.balance) == (D("5.00"), D("30.00"))
    payments.refund_order(order=order, amount=D("5.00"), key="r:x")  # another key, however it starts
    first.refresh_from_db()
    assert first.balance == D("10.00")


def test_a_balance_never_goes_below_zero():
    gift = card("5.00")
    with pytest.raises(services.GiftCardError, match="only 5.00"):
        services.adjust_card(card=gift, amount=D("-5.01"), note="too much")
    with pytest.raises(IntegrityError), transaction.atomic():
        GiftCard.objects.filter(pk=gift.pk).update(balance=D("-1"))
    assert GiftCardTransaction.objects.filter(card=gift).count() == 1


def test_a_gift_card_product_issues_a_card_per_unit_and_emails_its_code(django_capture_on_commit_callbacks):
    from catalog.tests.factories import VariantFactory
    from orders.tests.factories import cart_with, checkout_details

    voucher_card = VariantFactory(price=D("25.00"), stock=10, product__name="Gift card $25",
                                  product__is_gift_card=True, product__tax_class="zero")
    cart = cart_with((voucher_card, 2))
    order = orders.place_order(cart=cart, customer=None, details=checkout_details(email="giver@example.com"),
                               payment_provider="test", idempotency_key="gift")
    assert not GiftCard.objects.exists()  # not before it is paid
    with django_capture_on_commit_callbacks(execute=True):
        pay(order)
        pay(Order.objects.get(pk=order.pk))  # paid once: nothing more
    bought = list(GiftCard.objects.filter(source_order=order))
    assert len(bought) == 2 and all(c.balance == D("25.00") and c.recipient_email == "giver@example.com"
                                    for c in bought)
    codes = [m for m in mail.outbox if "gift card" in m.subject]
    emailed = {m.body.split("Code: ")[1].split()[0].replace("-", "") for m in codes}
    assert len(codes) == 2 and {c.code for c in bought} == emailed


def test_an_order_moved_to_refunded_gives_its_cards_back_what_they_still_miss():
    gift = card("20.00", code="MOVE-0001")
    order = pay(place("MOVE-0001"))  # card 20, provider 25
    payments.refund_order(order=order, amount=D("30.00"), key="part")  # 25 to the provider, 5 to the card
    orders.transition_order(order=Order.objects.get(pk=order.pk), to_status=Order.Status.REFUNDED)
    gift.refresh_from_db()
    assert gift.balance == D("20.00") and services.refundable_to_cards(order) == D("0")


def test_taking_an_unpaid_order_back_to_the_cart_keeps_its_gift_cards_there():
    from orders.models import Cart

    gift = card("10.00", code="KEEP-0001")
    order = place("KEEP-0001")
    cart = Cart.objects.create()
    assert orders.reopen_in_cart(order=order, cart=cart) == []
    gift.refresh_from_db()
    assert gift.balance == D("10.00") and selectors.cart_codes(cart) == ["KEEP0001"]
