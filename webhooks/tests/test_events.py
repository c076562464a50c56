"""Each domain event is written by the service that makes the change, in its transaction, with the
JSON the REST API gives for the object; a committed change reaches a real receiver (eager Celery)
and a rolled-back one sends nothing."""
import json

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from accounts.services import register_customer
from catalog import services as catalog
from catalog.models import Product, Variant
from catalog.tests.factories import ProductFactory, ReviewFactory, VariantFactory
from orders import services as orders
from orders.models import Order
from orders.tests.factories import cart_with, checkout_details
from payments.testing import pay, place_paid_order
from webhooks import services
from webhooks.models import Event

pytestmark = pytest.mark.django_db


def types() -> list[str]:
    return list(Event.objects.order_by("pk").values_list("type", flat=True))


def data_of(event_type: str) -> list[dict]:
    return [e.data for e in Event.objects.filter(type=event_type).order_by("pk")]


def subscribe():
    """An endpoint receiving every event type from now on (nothing is sent: these tests never commit)."""
    return services.create_endpoint(url="http://127.0.0.1:9/hooks")


def test_nothing_is_written_when_no_endpoint_subscribes():
    variant = VariantFactory(stock=5)
    place_paid_order(cart=cart_with((variant, 1)), customer=None, details=checkout_details(), idempotency_key="k1")
    assert Event.objects.count() == 0


def test_an_order_lifecycle_publishes_each_step_with_the_api_shape():
    variant = VariantFactory(stock=50)
    subscribe()
    order = place_paid_order(cart=cart_with((variant, 2)), customer=None, details=checkout_details(),
                             idempotency_key="k1")
    assert types() == ["stock.changed", "order.created", "order.paid"]
    created, paid = data_of("order.created")[0], data_of("order.paid")[0]
    assert (created["number"], created["status"], paid["status"]) == (order.number, "pending_payment", "paid")
    assert paid["lines"][0]["sku"] == variant.sku and paid["lines"][0]["quantity"] == 2
    assert paid["payment"] is None or paid["payment"]["client_secret"] == ""  # the customer's, not the integrator's
    assert data_of("stock.changed")[0]["stock"] == 48 and data_of("stock.changed")[0]["sku"] == variant.sku
    orders.transition_order(order=order, to_status=Order.Status.FULFILLED, tracking_number="TRACK1")
    orders.transition_order(order=order, to_status=Order.Status.DELIVERED)
    orders.transition_order(order=order, to_status=Order.Status.REFUNDED)
    assert types()[3:] == ["order.fulfilled", "order.delivered", "stock.changed", "order.refunded"]
    assert data_of("order.refunded")[0]["status"] == "refunded" and data_of("stock.changed")[-1]["stock"] == 50


def test_cancelled_and_payment_failed():
    variant = VariantFactory(stock=50)
    subscribe()
    order = orders.place_order(cart=cart_with((variant, 1)), customer=None, details=checkout_details(),
                               idempotency_key="k2", payment_provider="test")
    pay(order, approve=False)
    assert types() == ["stock.changed", "order.created", "payment.failed"]
    failed = data_of("payment.failed")[0]
    assert failed["number"] == order.number and failed["failed_payment"]["status"] == "failed"
    orders.cancel_order(order=order)
    assert types()[3:] == ["stock.changed", "order.cancelled"]


def test_stock_low_when_a_change_leaves_a_variant_at_its_threshold():
    variant = VariantFactory(stock=10, low_stock_threshold=3)
    subscribe()
    catalog.set_stock(variant=variant, stock=4)
    catalog.adjust_stock(variant=variant, delta=-1)
    assert types() == ["stock.changed", "stock.changed", "stock.low"]
    assert [d["stock"] for d in data_of("stock.changed")] == [4, 3] and data_of("stock.low")[0]["stock"] == 3
    assert data_of("stock.low")[0]["product"] == variant.product_id


def test_products_customers_and_reviews():
    review = ReviewFactory(status="pending")
    subscribe()
    product = ProductFactory(name="Tee")
    product.name = "Tee, softer"
    product.save()
    assert types() == ["product.created", "product.updated"]
    assert data_of("product.updated")[0]["name"] == "Tee, softer" and data_of("product.created")[0]["id"] == product.pk
    product.delete()
    assert types()[-1] == "product.deleted" and data_of("product.deleted")[0]["sku"] == product.sku

    user = register_customer(email="New@Example.com", password="a-long-password-1")
    assert data_of("customer.created") == [{"id": user.pk, "email": "new@example.com", "first_name": "",
                                            "last_name": "", "is_staff": False,
                                            "date_joined": data_of("customer.created")[0]["date_joined"]}]

    catalog.moderate_reviews(review_ids=[review.pk], action="approve")
    catalog.moderate_reviews(review_ids=[review.pk], action="feature")  # approved already: no second event
    [approved] = data_of("review.approved")
    assert (approved["id"], approved["product"], approved["status"]) == (review.pk, review.product_id, "approved")


def test_a_rolled_back_change_writes_no_event():
    variant = VariantFactory(stock=5)
    subscribe()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            catalog.set_stock(variant=variant, stock=1)
            raise RuntimeError("rolled back")
    assert Event.objects.count() == 0 and Variant.objects.get(pk=variant.pk).stock == 5


@pytest.mark.django_db(transaction=True)
def test_stock_changes_reach_a_receiver_in_order_end_to_end(receiver, eager):
    hook = receiver()
    endpoint = services.create_endpoint(url=hook.url, events=["stock.changed"])
    variant = VariantFactory(stock=0)
    levels = list(range(1, 1001))  # the issue: 1,000 stock changes reach a receiver in order
    for level in levels:
        catalog.set_stock(variant=variant, stock=level)
    payloads = [Webhook(endpoint.secret).verify(r.body, r.headers) for r in hook.requests]
    assert [p["data"]["stock"] for p in sorted(payloads, key=lambda p: p["sequence"])] == levels
    assert {p["type"] for p in payloads} == {"stock.changed"}
    assert not Product.objects.filter(pk=0).exists()
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            catalog.set_stock(variant=variant, stock=999)
            raise RuntimeError("rolled back")
    assert len(hook.requests) == len(levels) and json.loads(hook.requests[-1].body)["data"]["stock"] == levels[-1]
