"""Analytics current without beat (issue 24): a web order placed shows in the figures at once,
through the outbox message its transaction writes (eager Celery, no beat, no rebuild by hand)."""
from decimal import Decimal

import pytest
from django.utils import timezone

from analytics import refresh, selectors
from catalog.tests.factories import VariantFactory
from orders import services
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from accounts.tests.conftest import emails_run_here  # noqa: F401 - fixture: relayed jobs run here, eagerly
from outbox.models import Message
from payments.testing import place_paid_order

pytestmark = pytest.mark.django_db


def place(variant, quantity: int, key: str) -> Order:
    return place_paid_order(cart=cart_with((variant, quantity)), customer=None, details=checkout_details(),
                            idempotency_key=key)


def test_a_web_order_is_in_the_figures_as_soon_as_it_commits(emails_run_here, django_capture_on_commit_callbacks):
    from django.core.cache import cache

    # Redis outlives each test: a rebuild of today that an earlier test's worker started must not
    # count as having read this test's order.
    cache.delete(refresh._started_key(refresh.day_of(timezone.now()).isoformat()))
    variant = VariantFactory(stock=10, price=Decimal("30.00"))
    today = selectors.period_of_days(7)
    assert selectors.kpis(today, "USD")["orders"]["value"] == 0
    with django_capture_on_commit_callbacks(execute=True):
        order = place(variant, 2, "k1")
    figures = selectors.kpis(today, "USD")
    assert figures["orders"]["value"] == 1 and figures["units"]["value"] == 2
    assert figures["gross_revenue"]["value"] == order.total
    with django_capture_on_commit_callbacks(execute=True):
        services.cancel_order(order=order)
    assert selectors.kpis(today, "USD")["cancellations"]["value"] == 1
    assert not Message.objects.filter(kind=refresh.KIND).exclude(status=Message.Status.SENT).exists()


def test_a_web_order_shows_on_the_analytics_page_with_no_beat(emails_run_here, django_capture_on_commit_callbacks,
                                                              client):
    """The page a shop owner opens on `make run` (eager Celery, no beat), straight after an order."""
    from django.core.cache import cache

    from accounts.tests.factories import AnalystFactory

    cache.delete(refresh._started_key(refresh.day_of(timezone.now()).isoformat()))
    client.force_login(AnalystFactory())
    with django_capture_on_commit_callbacks(execute=True):
        order = place(VariantFactory(stock=10, price=Decimal("30.00")), 2, "page")
    page = client.get("/staff/analytics/", {"range": "7", "currency": "USD"})
    cards = {card["key"]: card["value"] for card in page.context["cards"]}
    assert (cards["orders"], cards["units"]) == (1, 2)
    assert f"{order.total:,.2f}" in page.content.decode()


def test_one_refresh_per_day_waits_in_a_transaction(settings):
    """Two orders in one transaction (nothing relayed yet) ask for one rebuild of their day."""
    variant = VariantFactory(stock=10)
    place(variant, 1, "a")
    place(variant, 1, "b")
    assert Message.objects.filter(kind=refresh.KIND).count() == 1


def test_a_stale_request_is_coalesced_into_a_later_rebuild(monkeypatch):
    from django.core.cache import cache

    cache.delete("analytics:refresh-started:2026-01-02")
    calls = []
    monkeypatch.setattr(refresh.rollups, "rebuild", lambda **kw: calls.append(kw))
    refresh.refresh_day(day="2026-01-02", asked_at=1000.0)  # rebuilds, remembering when it started
    refresh.refresh_day(day="2026-01-02", asked_at=1000.0)  # asked long before that rebuild began: done
    assert len(calls) == 1
