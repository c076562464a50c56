"""Daily rollups from live orders, their status history and events: what a staff member reads on
the dashboard, per day and per currency, never mixing currencies."""
import io
from datetime import date, datetime, timezone as dt_timezone
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from accounts.tests.factories import UserFactory
from analytics import events, rollups
from analytics.models import DailyCountry, DailyCustomer, DailyFunnel, DailyProduct, DailySales, Event
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order, OrderStatusChange
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db

DAY1, DAY2 = date(2024, 3, 1), date(2024, 3, 2)


def at(day: date, hour: int = 12) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=dt_timezone.utc)


def order(variant, quantity, *, customer=None, day=DAY1, key=None, country="US") -> Order:
    placed = place_paid_order(cart=cart_with((variant, quantity)), customer=customer,
                                  details=checkout_details(shipping_country=country),
                                  idempotency_key=key or f"k-{variant.pk}-{quantity}-{day}-{country}")
    Order.objects.filter(pk=placed.pk).update(created_at=at(day))
    OrderStatusChange.objects.filter(order=placed).update(changed_at=at(day))
    placed.refresh_from_db()
    return placed


def move(placed: Order, status: str, day: date) -> None:
    services.transition_order(order=placed, to_status=status)
    OrderStatusChange.objects.filter(order=placed, to_status=status).update(changed_at=at(day, 15))


def test_sales_cancellations_and_refunds_land_on_their_days():
    ann, bob = UserFactory(), UserFactory()
    shirt = VariantFactory(price=Decimal("20.00"), stock=100)
    mug = VariantFactory(price=Decimal("7.50"), stock=100)
    first = order(shirt, 2, customer=ann)                      # 40 + shipping
    second = order(mug, 4, customer=bob, country="GB")         # 30 + shipping
    guest = order(shirt, 1)                                    # 20 + shipping
    later = order(mug, 1, customer=ann, day=DAY2)
    move(second, "cancelled", DAY2)
    move(guest, "refunded", DAY2)

    rollups.rebuild(start=DAY1, end=DAY2)
    one, two = DailySales.objects.get(day=DAY1), DailySales.objects.get(day=DAY2)
    assert one.currency == "USD"
    assert (one.orders, one.guest_orders, one.units) == (3, 1, 7)
    assert one.gross_revenue == first.total + second.total + guest.total
    assert (one.cancellations, one.refunds, one.net_revenue) == (0, 0, one.gross_revenue)
    assert one.average_order_value == (one.gross_revenue / 3).quantize(Decimal("0.01"))
    # Day 2: one new sale; the cancellation and the refund of day-1 orders count on day 2.
    assert (two.orders, two.units, two.gross_revenue) == (1, 1, later.total)
    assert (two.cancellations, two.cancelled_value) == (1, second.total)
    assert (two.refunds, two.refunded_value) == (1, guest.total)
    assert two.net_revenue == later.total - second.total - guest.total
    # Customers: ann and bob new on day 1; ann returning on day 2.
    assert (one.customers, one.new_customers, one.returning_customers) == (2, 2, 0)
    assert (two.customers, two.new_customers, two.returning_customers) == (1, 0, 1)
    # Per product and per country.
    shirt_day1 = DailyProduct.objects.get(day=DAY1, product=shirt.product)
    assert (shirt_day1.orders, shirt_day1.units, shirt_day1.revenue) == (2, 3, Decimal("60.00"))
    shirt_day2 = DailyProduct.objects.get(day=DAY2, product=shirt.product)
    assert (shirt_day2.returned_units, shirt_day2.returned_value, shirt_day2.net_revenue) == (1, Decimal("20.00"),
                                                                                             Decimal("-20.00"))
    gb = DailyCountry.objects.get(day=DAY1, country="GB")
    assert (gb.orders, gb.gross_revenue) == (1, second.total)
    assert DailyCountry.objects.get(day=DAY2, country="GB").net_revenue == -second.total


def test_currencies_are_never_added_together():
    shirt = VariantFactory(price=Decimal("20.00"), stock=100)
    usd = order(shirt, 1)
    eur = order(shirt, 2, key="eur")
    Order.objects.filter(pk=eur.pk).update(currency="EUR")
    rollups.rebuild(start=DAY1, end=DAY1)
    rows = {row.currency: row for row in DailySales.objects.filter(day=DAY1)}
    assert set(rows) == {"USD", "EUR"}
    assert (rows["USD"].orders, rows["USD"].gross_revenue) == (1, usd.total)
    assert (rows["EUR"].orders, rows["EUR"].gross_revenue) == (1, eur.total)
    assert set(DailyProduct.objects.values_list("currency", flat=True)) == {"USD", "EUR"}


def test_funnel_and_product_activity_come_from_events():
    shirt = VariantFactory(stock=10)
    pid = shirt.product.pk
    for visitor in ("a" * 32, "b" * 32, "c" * 32):
        events.record("product_viewed", session_id=visitor, data={"product_id": pid}, at=at(DAY1, 9))
    events.record("product_viewed", session_id="a" * 32, data={"product_id": pid}, at=at(DAY1, 10))
    for visitor in ("a" * 32, "b" * 32):
        events.record("cart_updated", session_id=visitor, data={"action": "add", "product_id": pid}, at=at(DAY1, 10))
    events.record("cart_updated", session_id="c" * 32, data={"action": "remove", "variant_id": shirt.pk},
                  at=at(DAY1, 10))
    events.record("checkout_started", session_id="a" * 32, at=at(DAY1, 11))
    events.record("search", session_id="d" * 32, data={"query": "tee"}, at=at(DAY1, 11))
    events.record_now("order_created", session_id="a" * 32, at=at(DAY1, 11), data={"number": "IS-X"})
    assert events.flush() == 9  # record_now wrote order_created directly

    rollups.rebuild(start=DAY1, end=DAY1)
    funnel = DailyFunnel.objects.get(day=DAY1)
    assert (funnel.sessions, funnel.viewed, funnel.carted, funnel.checkout, funnel.ordered) == (4, 3, 2, 1, 1)
    activity = DailyProduct.objects.get(day=DAY1, product_id=pid)
    assert (activity.views, activity.add_to_carts, activity.orders) == (4, 2, 0)


def test_rebuilding_twice_gives_identical_tables_and_touches_only_its_range(retail_slice):
    from analytics.importer import import_orders

    import_orders(retail_slice(lambda row: row["InvoiceDate"] < "2010-12-04"), progress=False)
    call_command("rebuild_analytics", stdout=io.StringIO())
    first = rollups.snapshot()
    assert first["DailySales"] and first["DailyProduct"] and first["DailyCustomer"]
    out = io.StringIO()
    call_command("rebuild_analytics", "--from", "2010-12-01", "--to", "2010-12-03", stdout=out)
    assert "Rebuilt 2010-12-01 to 2010-12-03" in out.getvalue()
    assert rollups.snapshot() == first

    DailySales.objects.filter(day=date(2010, 12, 1)).update(orders=0)  # a stale row outside the range
    rollups.rebuild(start=date(2010, 12, 2), end=date(2010, 12, 3))
    assert DailySales.objects.get(day=date(2010, 12, 1)).orders == 0
    rollups.rebuild(start=date(2010, 12, 1), end=date(2010, 12, 1))
    assert rollups.snapshot() == first


def test_rebuild_command_refuses_bad_dates():
    with pytest.raises(CommandError, match="not a date"):
        call_command("rebuild_analytics", "--from", "2024-13-01")
    with pytest.raises(CommandError, match="after"):
        call_command("rebuild_analytics", "--from", "2024-03-02", "--to", "2024-03-01")
    out = io.StringIO()
    call_command("rebuild_analytics", stdout=out)
    assert "Nothing to roll up" in out.getvalue()
    assert not Event.objects.exists() and not DailyCustomer.objects.exists()


def test_an_unpaid_checkout_is_neither_a_sale_nor_a_cancellation_until_it_is_paid():
    from payments.testing import pay

    shirt = VariantFactory(price=Decimal("20.00"), stock=100)
    paid = order(shirt, 1, key="paid")
    declined = services.place_order(cart=cart_with((shirt, 3)), customer=None, details=checkout_details(),
                                    payment_provider="test", idempotency_key="declined")
    pay(declined, approve=False)  # the card is declined; the order waits, then its time runs out
    services.void_order(order=declined, reason="not paid within 30 minutes")
    waiting = services.place_order(cart=cart_with((shirt, 2)), customer=None, details=checkout_details(),
                                   payment_provider="test", idempotency_key="waiting")
    for placed in (declined, waiting):
        Order.objects.filter(pk=placed.pk).update(created_at=at(DAY1))
        OrderStatusChange.objects.filter(order=placed).update(changed_at=at(DAY1, 13))

    rollups.rebuild(start=DAY1, end=DAY1)
    day = DailySales.objects.get(day=DAY1)
    assert (day.orders, day.units, day.gross_revenue) == (1, 1, paid.total)
    assert (day.cancellations, day.cancelled_value, day.net_revenue) == (0, 0, paid.total)
    assert DailyProduct.objects.get(product=shirt.product).units == 1
    assert DailyCountry.objects.get().gross_revenue == paid.total

    pay(waiting)  # paid later: a sale of the day it was placed
    rollups.rebuild(start=DAY1, end=DAY1)
    day = DailySales.objects.get(day=DAY1)
    assert (day.orders, day.units, day.gross_revenue) == (2, 3, paid.total + Order.objects.get(pk=waiting.pk).total)
