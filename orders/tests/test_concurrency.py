"""Races at checkout, with real threads against PostgreSQL (transaction=True: every thread
commits for real, so the row locks and the CHECK constraint are what is tested)."""
import threading
from decimal import Decimal

import pytest
from django.db import connection, connections
from django.db.models import Sum

from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order, OrderLine
from orders.tests.factories import cart_with, checkout_details
from payments.testing import pay, place_paid_order

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)"),
]


def run_concurrently(jobs):
    """Start every job at the same instant on its own thread and database connection.
    Returns a list of (result, exception) pairs in job order."""
    barrier = threading.Barrier(len(jobs))
    outcomes = [None] * len(jobs)

    def worker(index, job):
        try:
            barrier.wait()
            outcomes[index] = (job(), None)
        except Exception as error:  # noqa: BLE001 - reported to the test
            outcomes[index] = (None, error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a checkout hung (deadlock?)"
    return outcomes


def checkout_job(cart, key):
    return lambda: place_paid_order(cart=cart, customer=None, details=checkout_details(), idempotency_key=key)


def test_forty_buyers_race_for_ten_units():
    variant = VariantFactory(stock=10, price=Decimal("52.00"))
    carts = [cart_with((variant, 1)) for _ in range(40)]

    outcomes = run_concurrently([checkout_job(cart, f"buyer-{i}") for i, cart in enumerate(carts)])

    placed = [result for result, error in outcomes if result is not None]
    refused = [error for result, error in outcomes if error is not None]
    assert len(placed) == 10
    assert len(refused) == 30 and all(isinstance(error, services.InsufficientStock) for error in refused)
    assert Order.objects.count() == 10
    variant.refresh_from_db()
    assert variant.stock == 0
    sold = OrderLine.objects.filter(variant=variant).aggregate(units=Sum("quantity"))["units"]
    assert sold + variant.stock == 10  # stock is conserved: every unit is either sold or on the shelf


def test_two_item_carts_in_opposite_orders_do_not_deadlock():
    first, second = VariantFactory(stock=100), VariantFactory(stock=100)
    carts = [cart_with((first, 1), (second, 1)) if i % 2 else cart_with((second, 1), (first, 1))
             for i in range(30)]

    outcomes = run_concurrently([checkout_job(cart, f"pair-{i}") for i, cart in enumerate(carts)])

    errors = [error for _, error in outcomes if error is not None]
    assert errors == []  # PostgreSQL would raise "deadlock detected" for lock-order inversions
    assert Order.objects.count() == 30
    assert list(Variant.objects.filter(pk__in=[first.pk, second.pk]).values_list("stock", flat=True)) == [70, 70]


def test_double_submit_of_one_checkout_makes_one_order():
    variant = VariantFactory(stock=10)
    cart = cart_with((variant, 2))

    outcomes = run_concurrently([checkout_job(cart, "same-click") for _ in range(8)])

    orders = {result.pk for result, error in outcomes if result is not None}
    assert len(orders) == 1
    assert Order.objects.count() == 1
    variant.refresh_from_db()
    assert variant.stock == 8
    # Clicks that each started a payment of the one order: one is kept, any other refunded at once.
    from payments.models import Payment

    kept = sum(p.totals()["balance"] for p in Payment.objects.filter(status="succeeded"))
    assert kept == Order.objects.get().total and Order.objects.get().status == Order.Status.PAID


def test_the_provider_is_called_after_the_stock_is_committed_and_with_no_row_locked(monkeypatch):
    """The payment is asked for outside the stock transaction: while the provider works, another
    connection sees the stock taken and the order pending payment, and can lock the variant."""
    from django.db import transaction

    from payments.providers.test import TestProvider

    variant = VariantFactory(stock=3)
    seen = {}

    def look():
        with transaction.atomic():
            seen["stock"] = Variant.objects.select_for_update(nowait=True).get(pk=variant.pk).stock
            seen["status"] = Order.objects.get().status

    create = TestProvider.create_payment

    def watched(self, payment, **kwargs):
        [(_, seen["error"])] = run_concurrently([look])
        return create(self, payment, **kwargs)

    monkeypatch.setattr(TestProvider, "create_payment", watched)
    order = checkout_job(cart_with((variant, 2)), "watched")()
    assert seen == {"stock": 1, "status": Order.Status.PENDING_PAYMENT, "error": None}
    assert order.status == Order.Status.PAID


def test_declined_buyers_in_a_race_give_their_stock_back_when_their_orders_expire(settings):
    from payments.services import expire_unpaid_orders

    variant = VariantFactory(stock=5)
    jobs = [lambda cart=cart_with((variant, 1)), i=i: pay(services.place_order(
        cart=cart, customer=None, details=checkout_details(), payment_provider="test",
        idempotency_key=f"mixed-{i}"), approve=not i % 2) for i in range(10)]
    outcomes = run_concurrently(jobs)
    placed = [result for result, error in outcomes if result is not None]
    refused = [error for result, error in outcomes if error is not None]
    assert all(isinstance(error, services.InsufficientStock) for error in refused)
    settings.SHOP_PAYMENT_TIMEOUT = 0
    expire_unpaid_orders()
    variant.refresh_from_db()
    sold = OrderLine.objects.filter(order__status=Order.Status.PAID).aggregate(units=Sum("quantity"))["units"] or 0
    paid = [order for order in placed if order.status == Order.Status.PAID]
    assert len(paid) == sold and sold + variant.stock == 5  # an expired order holds no stock
