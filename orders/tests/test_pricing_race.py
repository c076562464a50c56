"""Voucher usage races, with real threads against PostgreSQL (transaction=True: every checkout
commits for real, so the voucher's row lock is what is tested)."""
import time
from decimal import Decimal

import pytest
from django.db import connection

from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from orders.tests.test_concurrency import run_concurrently
from promotions.models import Voucher, VoucherRedemption

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)"),
]


def test_thirty_checkouts_race_for_a_ten_use_voucher():
    """Each buyer wants a different product, so only the voucher's row lock stands between them."""
    voucher = Voucher.objects.create(code="SPRING10", kind=Voucher.Kind.PERCENTAGE, value=Decimal("10"),
                                     usage_limit=10)
    carts = []
    for index in range(30):
        cart = cart_with((VariantFactory(price=Decimal("50.00"), stock=1), 1))
        cart.voucher_code = "SPRING10"
        cart.save()
        carts.append(cart)

    def job(cart, index):
        return lambda: services.place_order(cart=cart, customer=None, payment_provider="test",
                                            details=checkout_details(email=f"buyer{index}@example.com"),
                                            idempotency_key=f"race-{index}")

    started = time.perf_counter()
    outcomes = run_concurrently([job(cart, i) for i, cart in enumerate(carts)])
    elapsed = time.perf_counter() - started

    placed = [order for order, error in outcomes if order is not None]
    refused = [error for order, error in outcomes if error is not None]
    print(f"\n30 concurrent checkouts on a 10-use voucher: {len(placed)} discounted orders, "
          f"{len(refused)} refused ('{refused[0] if refused else ''}'), {elapsed:.2f} s")
    assert len(placed) == 10 and all(order.discount_total == Decimal("5.00") for order in placed)
    assert len(refused) == 20 and all(isinstance(error, services.VoucherNotApplicable) for error in refused)
    assert all(str(error) == "SPRING10 has been used up." for error in refused)
    voucher.refresh_from_db()
    assert voucher.used_count == 10 == VoucherRedemption.objects.count()
    assert Order.objects.count() == 10 and Order.objects.filter(voucher_code="SPRING10").count() == 10
