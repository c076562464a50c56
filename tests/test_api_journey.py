"""Done-when for the integrator API: tests/api_journey.py (HTTP and the API only) registers, logs
in, lists and searches the real Luma catalogue, orders with an Idempotency-Key and reads the order
back, against daphne on the test database. Also: /api/docs/ and the schema show every endpoint."""
from decimal import Decimal

import requests

from catalog.models import Variant
from orders.models import Order
from tests.api_journey import run
from tests.conftest import LUMA_START_STOCK


def test_the_api_alone_runs_a_customer_journey(asgi_live_server, luma_slice):
    from payments.providers.test import webhook_secret

    order = run(asgi_live_server.url, search="hoodie", email="journey@example.com", say=lambda _: None,
                webhook_secret=webhook_secret())
    assert order["status"] == "paid" and order["payment"]["status"] == "succeeded"

    placed = Order.objects.get(number=order["number"])
    assert placed.customer.email == "journey@example.com" and placed.lines.get().quantity == 2
    variant = Variant.objects.get(pk=placed.lines.get().variant_id)
    assert variant.product.name == "Chaz Kangeroo Hoodie"
    assert variant.stock == LUMA_START_STOCK - 2  # the retry took no more stock
    assert placed.total == 2 * variant.unit_price + Decimal("5.00") == Decimal(order["total"])


def test_docs_and_schema_show_every_endpoint(asgi_live_server):
    docs = requests.get(f"{asgi_live_server.url}/api/docs/", timeout=30)
    assert docs.status_code == 200 and "swagger-ui" in docs.text
    schema = requests.get(f"{asgi_live_server.url}/api/schema/", headers={"Accept": "application/json"}, timeout=30)
    paths = schema.json()["paths"]
    for path in ("/api/v1/auth/register", "/api/v1/auth/token", "/api/v1/auth/token/refresh", "/api/v1/auth/logout",
                 "/api/v1/auth/me", "/api/v1/products/", "/api/v1/products/{id}/", "/api/v1/categories/",
                 "/api/v1/products/{id}/images/", "/api/v1/variants/{id}/stock/", "/api/v1/orders/",
                 "/api/v1/orders/{number}/", "/api/v1/orders/summary/", "/api/v1/admin/orders/",
                 "/api/v1/admin/orders/{number}/status", "/api/v1/admin/customers/",
                 "/api/v1/admin/customers/{id}/", "/api/v1/admin/customers/{id}/summary/",
                 "/api/v1/inventory/", "/api/v1/images/proxy"):
        assert path in paths, path
    for path, operations in paths.items():
        for method, operation in operations.items():
            assert {"200", "201", "202", "204"} & set(operation["responses"]), (method, path)  # 202: queued
            assert any(status.startswith("4") for status in operation["responses"]), (method, path)
