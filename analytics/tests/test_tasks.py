"""The rollup tasks: a real `celery -A shop worker` on the real Redis and the test database flushes
the buffered events and refreshes today's rollups; closing a day; the days owed after the
watermark (rollups.catch_up); the beat schedule."""
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from celery.result import allow_join_result
from django.conf import settings
from django.utils import timezone

from analytics import events, rollups, tasks
from analytics.models import DailyFunnel, DailyProduct, DailySales, Event, RollupWatermark
from catalog.tests.conftest import wait_for
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order, OrderStatusChange
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order


def place(variant, quantity: int, key: str) -> Order:
    return place_paid_order(cart=cart_with((variant, quantity)), customer=None, details=checkout_details(), idempotency_key=key)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_flushes_events_and_refreshes_today(analytics_worker):
    variant = VariantFactory(price=Decimal("12.50"), stock=10)
    order = place(variant, 2, "worker-1")
    events.record("product_viewed", session_id="f" * 32, data={"product_id": variant.product_id})
    events.record("cart_updated", session_id="f" * 32, data={"action": "add", "product_id": variant.product_id})
    assert events.pending() == 2
    # The worker reads the shared buffer: this process's batch reaches it within ANALYTICS_BATCH_SECONDS.
    wait_for(lambda: events._redis().llen(events.BUFFER_KEY) == 2, timeout=10,
             message=lambda: "the batch of events never reached the shared buffer")

    tasks.refresh_today.delay()
    today = timezone.localdate()
    wait_for(lambda: DailySales.objects.filter(day=today).exists(), timeout=90,
             message=lambda: f"no rollup for today\n{analytics_worker.log()[-3000:]}")
    sales = DailySales.objects.get(day=today)
    assert (sales.orders, sales.units, sales.gross_revenue, sales.currency) == (1, 2, order.total, order.currency)
    assert events.pending() == 0 and Event.objects.filter(event_type="product_viewed").count() == 1
    product = DailyProduct.objects.get(day=today, product=variant.product)
    assert (product.views, product.add_to_carts, product.units) == (1, 1, 2)
    funnel = DailyFunnel.objects.get(day=today)
    assert (funnel.sessions, funnel.viewed, funnel.carted) == (1, 1, 1)
    assert "analytics.tasks.refresh_today[" in analytics_worker.log()

    # A second refresh (a redelivery, the next beat) leaves the same figures.
    first = list(DailySales.objects.values_list("day", "orders", "gross_revenue", "net_revenue"))
    # The worker's answer, through the result backend. allow_join_result: an earlier test in this
    # process may have run task code in it, after which Celery refuses a blocking get() by default.
    with allow_join_result():
        again = tasks.refresh_today.delay().get(timeout=90)
    assert again["rows"]["DailySales"] == 1
    assert list(DailySales.objects.values_list("day", "orders", "gross_revenue", "net_revenue")) == first


@pytest.mark.django_db
def test_closing_yesterday_counts_its_late_changes():
    variant = VariantFactory(price=Decimal("10.00"), stock=10)
    order = place(variant, 1, "close-1")
    yesterday = timezone.now() - timedelta(days=1)
    Order.objects.filter(pk=order.pk).update(created_at=yesterday)
    OrderStatusChange.objects.filter(order=order).update(changed_at=yesterday)
    result = tasks.close_day.apply().get()
    assert result["start"] == result["end"] == str(timezone.localdate() - timedelta(days=1))
    assert DailySales.objects.get(day=timezone.localdate() - timedelta(days=1)).orders == 1
    assert not DailySales.objects.filter(day=timezone.localdate()).exists()


def placed_days_ago(variant, days_ago: int, key: str) -> Order:
    """An order (and its status history) moved back `days_ago` days."""
    order = place(variant, 1, key)
    moment = timezone.now() - timedelta(days=days_ago)
    Order.objects.filter(pk=order.pk).update(created_at=moment)
    OrderStatusChange.objects.filter(order=order).update(changed_at=moment)
    return order


def last_closable_day():
    """The last day a rebuild run now may close: the one before today, CLOSE_GRACE after midnight."""
    return timezone.localdate(timezone.now() - rollups.CLOSE_GRACE) - timedelta(days=1)


def closed_through():
    return RollupWatermark.objects.get().closed_through


@pytest.mark.django_db
def test_the_refresh_completes_the_days_missed_while_no_worker_ran():
    today = timezone.localdate()
    variant = VariantFactory(price=Decimal("8.00"), stock=10)
    for days_ago in (3, 2, 0):
        placed_days_ago(variant, days_ago, f"missed-{days_ago}")
    RollupWatermark.objects.create(pk=1, closed_through=today - timedelta(days=4))  # then no worker ran

    result = tasks.refresh_today.apply().get()
    assert (result["start"], result["end"]) == (str(today - timedelta(days=3)), str(today))
    assert list(DailySales.objects.values_list("day", "orders")) == [
        (today - timedelta(days=3), 1), (today - timedelta(days=2), 1), (today, 1)]
    assert closed_through() == last_closable_day()

    # Once caught up, the refresh rebuilds only what is still open.
    again = tasks.refresh_today.apply().get()
    assert again["start"] == str(last_closable_day() + timedelta(days=1))
    assert DailySales.objects.count() == 3


@pytest.mark.django_db
def test_only_a_rebuild_joining_the_closed_days_moves_the_watermark():
    today = timezone.localdate()
    variant = VariantFactory(price=Decimal("8.00"), stock=10)
    placed_days_ago(variant, 5, "history-starts")

    rollups.rebuild(start=today - timedelta(days=2), end=today)  # leaves days -5..-3 owed
    assert closed_through() is None
    rollups.rebuild(start=today - timedelta(days=5), end=today - timedelta(days=4))
    assert closed_through() == today - timedelta(days=4)
    rollups.rebuild(start=today - timedelta(days=2), end=today)  # day -3 is still owed
    assert closed_through() == today - timedelta(days=4)
    assert rollups.catch_up().start == today - timedelta(days=3)
    assert closed_through() == last_closable_day()


@pytest.mark.django_db
def test_yesterday_is_closed_only_after_the_grace_past_midnight(monkeypatch):
    today = timezone.localdate()
    variant = VariantFactory(price=Decimal("8.00"), stock=10)
    placed_days_ago(variant, 1, "late-evening")
    real_now = timezone.now
    just_after_midnight = datetime.combine(today, time(0, 5), tzinfo=timezone.get_current_timezone())
    monkeypatch.setattr(timezone, "now", lambda: just_after_midnight)
    rollups.catch_up()  # an order of 23:59:59 may still be committing: yesterday stays open
    assert closed_through() == today - timedelta(days=2)
    monkeypatch.setattr(timezone, "now", real_now)

    assert rollups.catch_up().start == today - timedelta(days=1)
    assert closed_through() == last_closable_day()


def test_the_beat_schedule_refreshes_today_often_and_closes_yesterday():
    from shop.celery import app

    app.loader.import_default_modules()
    schedule = settings.CELERY_BEAT_SCHEDULE
    assert schedule["analytics-refresh-today"]["task"] == "analytics.tasks.refresh_today"
    assert schedule["analytics-refresh-today"]["schedule"] <= 600  # seconds
    assert schedule["analytics-close-yesterday"]["task"] == "analytics.tasks.close_day"
    assert schedule["analytics-flush-events"]["schedule"] <= 60
    for entry in schedule.values():
        assert entry["task"] in app.tasks
    assert ("analytics.tasks.refresh_today", {}) in settings.CELERY_WORKER_READY_TASKS  # a worker catches up
    assert settings.CELERY_BEAT_SCHEDULER == "django_celery_beat.schedulers:DatabaseScheduler"
