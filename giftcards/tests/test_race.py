"""Gift card races, with real threads against PostgreSQL (transaction=True: every checkout commits
for real, so the card's row lock is what is tested)."""
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Sum

from catalog.tests.factories import VariantFactory
from giftcards import selectors, services
from giftcards.models import GiftCard, GiftCardTransaction
from orders import services as orders
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from orders.tests.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)"),
]
D = Decimal


def test_twenty_checkouts_race_for_one_100_dollar_card():
    """Each $45.00 order (2 x $20 + $5 shipping) wants the whole card: the first two take $45 each,
    the third the last $10 (and pays $35 by the provider), the other 17 are refused; never below zero."""
    services.issue_card(amount=D("100.00"), code="RACE-0100")
    carts = [cart_with((VariantFactory(price=D("20.00"), stock=2), 2)) for _ in range(20)]

    def job(cart, index):
        return lambda: orders.place_order(cart=cart, customer=None, payment_provider="test",
                                          details=checkout_details(email=f"buyer{index}@example.com"),
                                          idempotency_key=f"race-{index}", gift_card_codes=["race-0100"])

    started = time.perf_counter()
    outcomes = run_concurrently([job(cart, i) for i, cart in enumerate(carts)])
    elapsed = time.perf_counter() - started

    placed = [order for order, error in outcomes if order is not None]
    refused = [error for order, error in outcomes if error is not None]
    print(f"\n20 concurrent checkouts on a $100 gift card: {len(placed)} orders paid by it, "
          f"{len(refused)} refused ('{refused[0] if refused else ''}'), {elapsed:.2f} s")
    assert sorted(selectors.paid_by_cards(order) for order in placed) == [D("10.00"), D("45.00"), D("45.00")]
    assert sorted(order.status for order in placed) == ["paid", "paid", "pending_payment"]
    assert len(refused) == 17 and all(str(error) == "Gift card ****0100 has no balance left." for error in refused)
    card = GiftCard.objects.get()
    assert card.balance == D("0.00")
    assert GiftCardTransaction.objects.filter(card=card).aggregate(total=Sum("amount"))["total"] == D("0.00")
    assert GiftCardTransaction.objects.filter(kind="spend").count() == 3 == Order.objects.count()
