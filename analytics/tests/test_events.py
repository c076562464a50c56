"""Shopper events: a visit through the real pages records each event type with the visitor's id,
page views only buffer (no database write while the page is served), and order events are written
with the order itself, so that a lost buffer cannot lose them."""
import time
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.tests.factories import UserFactory
from analytics import events
from analytics.middleware import COOKIE
from analytics.models import Event
from catalog.tests.factories import CategoryFactory, VariantFactory
from orders import services
from orders.models import Order
from payments.testing import checkout_and_approve, place_paid_order

pytestmark = pytest.mark.django_db

ADDRESS = {"email": "gale@example.com", "shipping_name": "Gale Guest", "shipping_line1": "1 Main Street",
           "shipping_city": "Springfield", "shipping_postcode": "62701", "shipping_region": "IL", "shipping_country": "US",
           "shipping_method": "standard"}


@pytest.fixture
def tee():
    variant = VariantFactory(sku="MS01-M", size="M", colour="", stock=5, price=Decimal("20.00"),
                             product__name="Breathe Tee")
    variant.product.categories.add(CategoryFactory(name="Tops"))
    return variant


def inserts_into_events(queries) -> list[str]:
    return [q["sql"] for q in queries if "analytics_event" in q["sql"]]


def test_a_guest_visit_records_every_step_with_one_visitor_id(client, tee):
    with CaptureQueriesContext(connection) as page_queries:
        page = client.get(reverse("catalog:product", kwargs={"slug": tee.product.slug}))
    assert page.status_code == 200
    visitor = page.cookies[COOKIE].value
    assert not inserts_into_events(page_queries)  # the page did not touch the event store
    assert events.pending() == 1 and not Event.objects.exists()

    client.get(reverse("catalog:category", kwargs={"path": "tops"}))
    client.get(reverse("catalog:search"), {"q": "tee"})
    client.post(reverse("orders:cart_add"), {"product": tee.product_id, "size": "M", "quantity": 2})
    client.post(reverse("orders:cart_update"), {"variant": tee.pk, "quantity": 1})
    client.get(reverse("orders:checkout"))
    review = client.post(reverse("orders:checkout"), ADDRESS, follow=True)
    key = review.context["form"]["idempotency_key"].value()
    checkout_and_approve(client, key)

    order = Order.objects.get()
    created = Event.objects.get(event_type="order_created")  # already in the database, not buffered
    assert created.session_id == visitor and created.data["number"] == order.number
    assert created.data["total"] == str(order.total) and created.timestamp == order.created_at

    assert events.flush() == 6  # order_created was never buffered
    assert events.pending() == 0
    recorded = list(Event.objects.order_by("timestamp", "pk").values_list("event_type", "data"))
    assert sorted(t for t, _ in recorded) == sorted([
        "product_viewed", "product_list_viewed", "search", "cart_updated", "cart_updated", "checkout_started",
        "order_created"])
    data = dict((t, d) for t, d in recorded if t != "cart_updated")
    assert data["product_viewed"] == {"product_id": tee.product_id, "slug": tee.product.slug}
    assert data["product_list_viewed"] == {"path": "tops", "page": 1}
    assert data["search"] == {"query": "tee"}
    carts = [d for t, d in recorded if t == "cart_updated"]
    assert carts[0]["action"] == "add" and carts[0]["product_id"] == tee.product_id and carts[0]["quantity"] == 2
    assert carts[1] == {"action": "set", "variant_id": tee.pk, "quantity": 1}
    assert set(Event.objects.values_list("session_id", flat=True)) == {visitor}
    assert set(Event.objects.values_list("user_id", flat=True)) == {None}


def test_a_failed_add_to_cart_is_not_an_add(client, tee):
    client.post(reverse("orders:cart_add"), {"product": tee.product_id, "size": "M", "quantity": 500})
    events.flush()
    assert not Event.objects.filter(event_type="cart_updated").exists()


def test_sign_up_and_log_in_are_recorded_for_the_user(client, django_capture_on_commit_callbacks):
    client.get(reverse("catalog:search"), {"q": "x"})
    visitor = client.cookies[COOKIE].value
    with django_capture_on_commit_callbacks(execute=True):  # user_registered is sent after commit
        client.post(reverse("signup"), {"email": "nia@example.com", "first_name": "Nia", "last_name": "New",
                                        "password1": "a-long-unusual-pass", "password2": "a-long-unusual-pass"})
    user = UserFactory()
    client.post(reverse("login"), {"username": user.email, "password": "correct-horse-battery"})
    events.flush()
    registered = Event.objects.get(event_type="user_registered")
    assert registered.user_id and registered.session_id == visitor
    logins = Event.objects.filter(event_type="user_login")
    assert user.pk in set(logins.values_list("user_id", flat=True))
    assert logins.get(user_id=user.pk).data == {"ip": "127.0.0.1"}  # shop.observability.client_address
    assert set(logins.values_list("session_id", flat=True)) == {visitor}  # the id survives logging in


def test_cancelling_an_order_records_order_cancelled_with_it():
    tee = VariantFactory(stock=3)
    from orders.tests.factories import cart_with, checkout_details

    order = place_paid_order(cart=cart_with((tee, 1)), customer=None, details=checkout_details(), idempotency_key="c1")
    services.cancel_order(order=order)
    cancelled = Event.objects.get(event_type="order_cancelled")
    assert cancelled.data == {"order_id": order.pk, "from_status": "paid"}


def test_a_dead_buffer_costs_page_events_only_never_the_page_or_the_order(client, tee, settings):
    working = settings.REDIS_URL
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens there
    try:
        page = client.get(reverse("catalog:product", kwargs={"slug": tee.product.slug}))
        assert page.status_code == 200
        from orders.tests.factories import cart_with, checkout_details

        order = place_paid_order(cart=cart_with((tee, 1)), customer=None, details=checkout_details(), idempotency_key="d1")
        assert Event.objects.get(event_type="order_created").data["number"] == order.number
    finally:
        settings.REDIS_URL = working
        events._redis_down_until = 0.0


def test_unknown_event_types_are_a_programming_error():
    with pytest.raises(ValueError, match="Unknown event type"):
        events.record("page_exploded")


def test_without_redis_the_end_of_a_request_flushes_when_due(client, tee, settings):
    settings.REDIS_URL = ""
    settings.ANALYTICS_FLUSH_SECONDS = 0
    client.get(reverse("catalog:product", kwargs={"slug": tee.product.slug}))
    assert Event.objects.filter(event_type="product_viewed").count() == 1  # written after the response
    settings.ANALYTICS_FLUSH_SECONDS = 3600
    client.get(reverse("catalog:product", kwargs={"slug": tee.product.slug}))
    assert Event.objects.filter(event_type="product_viewed").count() == 1 and events.pending() == 1


def test_page_views_reach_the_shared_buffer_in_batches(client, tee, settings):
    """With Redis, a page view costs no round trip of its own: each process sends its events in
    one RPUSH when ANALYTICS_BATCH_SIZE have gathered, or ANALYTICS_BATCH_SECONDS after the first."""
    if not settings.REDIS_URL:
        pytest.skip("the batch is for the Redis buffer")
    shared = events._redis()
    settings.ANALYTICS_BATCH_SIZE, settings.ANALYTICS_BATCH_SECONDS = 3, 0.5
    url = reverse("catalog:product", kwargs={"slug": tee.product.slug})
    client.get(url)
    client.get(url)
    assert events.pending() == 2 and shared.llen(events.BUFFER_KEY) == 0  # still this process's batch
    client.get(url)
    assert shared.llen(events.BUFFER_KEY) == 3  # the third filled the batch
    client.get(url)
    deadline = time.monotonic() + 5
    while shared.llen(events.BUFFER_KEY) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert shared.llen(events.BUFFER_KEY) == 4  # the timer sent the fourth on its own
    assert events.flush() == 4 and Event.objects.filter(event_type="product_viewed").count() == 4
