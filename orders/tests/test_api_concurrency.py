"""The orders API under concurrent retries: real threads, each with its own database connection,
against PostgreSQL (transaction=True, so every request commits for real)."""
import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import VariantFactory
from orders.models import Cart, Order
from orders.tests.test_api_orders import ORDERS, order_body
from orders.tests.test_concurrency import run_concurrently

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (make test uses it)"),
]


def post_job(user, body, key):
    def job():
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
        return response.status_code, response.json()
    return job


def test_twenty_concurrent_requests_with_one_key_make_one_order():
    customer = UserFactory()
    variant = VariantFactory(stock=50)
    body = order_body((variant, 2))

    outcomes = run_concurrently([post_job(customer, body, "double-submit") for _ in range(20)])

    assert all(error is None for _, error in outcomes), [error for _, error in outcomes if error]
    statuses = {status for (status, _), _ in outcomes}
    numbers = {data["number"] for (_, data), _ in outcomes}
    assert statuses == {201} and len(numbers) == 1
    assert Order.objects.count() == 1
    assert Variant.objects.get(pk=variant.pk).stock == 48  # stock taken once
    assert not Cart.objects.exists()  # no transient cart left behind


def test_concurrent_requests_with_one_key_and_different_bodies():
    customer = UserFactory()
    variant = VariantFactory(stock=50)
    jobs = [post_job(customer, order_body((variant, 1 + i % 2)), "same-key") for i in range(10)]

    outcomes = run_concurrently(jobs)

    assert all(error is None for _, error in outcomes)
    order = Order.objects.get()
    winners = [data for (status, data), _ in outcomes if status == 201]
    losers = [status for (status, _), _ in outcomes if status != 201]
    assert winners and {data["number"] for data in winners} == {order.number}
    assert set(losers) <= {422} and len(winners) + len(losers) == 10
    assert all(data["lines"][0]["quantity"] == winners[0]["lines"][0]["quantity"] for data in winners)
