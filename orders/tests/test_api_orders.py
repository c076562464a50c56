"""The orders API through APIClient: placing orders (idempotency, server-side prices, bad input),
reading one's own orders, and the staff order and customer endpoints, with two customers and staff."""
import hashlib
from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import ProductFactory, VariantFactory
from orders.models import Order

pytestmark = pytest.mark.django_db

ORDERS = "/api/v1/orders/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def ann():
    return UserFactory(email="ann@example.com")


@pytest.fixture
def bob():
    return UserFactory(email="bob@example.com")


@pytest.fixture
def staff():
    return User.objects.create_superuser(email="boss@example.com", password="x-long-password-1")


@pytest.fixture
def hoodie() -> Variant:
    return VariantFactory(price=Decimal("52.00"), sale_price=Decimal("45.00"), stock=10)


@pytest.fixture
def bag() -> Variant:
    return VariantFactory(price=Decimal("34.00"), stock=3)


def order_body(*items, **overrides) -> dict:
    body = {
        "items": [{"variant": variant.pk, "quantity": quantity} for variant, quantity in items],
        "shipping_address": {"name": "Ann Buyer", "line1": "1 Main Street", "city": "Springfield",
                             "postcode": "62701", "region": "IL", "country": "US"},
        "billing_address": {"name": "Ann Buyer", "line1": "1 Main Street", "city": "Springfield",
                            "postcode": "12345", "country": "US"},
        "shipping_method": "standard",
        "payment_method": "test",
    }
    return {**body, **overrides}


class Paid:
    """The 201 answer of an order placed, after its PaymentIntent was paid (the order re-read)."""

    def __init__(self, status_code: int, data: dict):
        self.status_code, self.data = status_code, data

    def json(self) -> dict:
        return self.data


def place(client, body, key="key-1", pay=True):
    """POST the order; when it is created pending payment, pay its PaymentIntent (a signed
    payment_intent.succeeded from the test provider) and answer with the order as it is then."""
    from payments.testing import pay as pay_order

    response = client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    if not pay or response.status_code != 201 or response.json()["status"] != "pending_payment":
        return response
    pay_order(Order.objects.get(number=response.json()["number"]))
    return Paid(201, client.get(f"{ORDERS}{response.json()['number']}/").json())


def test_order_is_priced_by_the_shop_and_takes_stock(ann, hoodie, bag):
    body = order_body((hoodie, 2), (bag, 1))
    body["items"][0]["price"] = "0.01"  # a client-sent price or total is ignored
    body.update(total="0.01", subtotal="0.01", status="delivered", customer=999, shipping_price="0")
    response = place(client_for(ann), body)
    assert response.status_code == 201, response.json()
    data = response.json()
    assert data["subtotal"] == "124.00"  # 2 x 45.00 (sale) + 34.00
    assert data["shipping_price"] == "5.00" and data["total"] == "129.00"
    assert data["status"] == "paid" and data["customer"] == ann.pk and data["email"] == "ann@example.com"
    assert [(line["sku"], line["unit_price"], line["quantity"]) for line in data["lines"]] == [
        (hoodie.sku, "45.00", 2), (bag.sku, "34.00", 1)]
    order = Order.objects.get(number=data["number"])
    assert order.total == Decimal("129.00") and order.customer == ann
    assert Variant.objects.get(pk=hoodie.pk).stock == 8 and Variant.objects.get(pk=bag.pk).stock == 2
    assert not ann.cart.lines.exists() if hasattr(ann, "cart") else True


def test_same_key_and_body_return_the_same_order_and_response(ann, hoodie):
    client = client_for(ann)
    first = place(client, order_body((hoodie, 1)), key="retry-me")
    again = place(client, order_body((hoodie, 1)), key="retry-me")
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert Order.objects.count() == 1 and Variant.objects.get(pk=hoodie.pk).stock == 9


def test_same_key_with_another_body_is_422(ann, hoodie):
    client = client_for(ann)
    assert place(client, order_body((hoodie, 1)), key="k").status_code == 201
    response = place(client, order_body((hoodie, 2)), key="k")
    assert response.status_code == 422
    assert response.json()["code"] == "idempotency_key_reused" and "Idempotency-Key" in response.json()["fields"]
    assert Order.objects.count() == 1


def test_keys_are_per_customer(ann, bob, hoodie):
    first = place(client_for(ann), order_body((hoodie, 1)), key="shared")
    second = place(client_for(bob), order_body((hoodie, 1)), key="shared")
    assert first.status_code == second.status_code == 201
    assert first.json()["number"] != second.json()["number"]
    assert second.json()["customer"] == bob.pk


def test_a_replayed_key_of_another_customer_creates_and_reveals_nothing(ann, bob, hoodie):
    """Issue 21: stored keys are an HMAC of the server secret, the owner and the key. Bob sending
    Ann's key, or the stored key of Ann's order (as the old sha256 scheme let anyone compute),
    with an order Bob cannot place (no stock), gets Bob's own error and nothing of Ann's."""
    first = place(client_for(ann), order_body((hoodie, 1)), key="ann-key")
    ann_order = Order.objects.get()
    assert first.status_code == 201
    computed = "api-" + hashlib.sha256(f"{ann.pk}\x00ann-key".encode()).hexdigest()[:60]  # the old scheme
    assert ann_order.idempotency_key not in ("ann-key", computed) and len(ann_order.idempotency_key) == 64
    for stolen in ("ann-key", ann_order.idempotency_key, computed):
        replay = place(client_for(bob), order_body((hoodie, 99)), key=stolen)
        assert replay.status_code == 409 and ann_order.number not in replay.content.decode()
        assert "ann@example.com" not in replay.content.decode()
    assert Order.objects.count() == 1
    # The same key and body again by Ann is still the same order.
    assert place(client_for(ann), order_body((hoodie, 1)), key="ann-key").json()["number"] == ann_order.number


def test_an_idempotency_key_is_required(ann, hoodie):
    response = client_for(ann).post(ORDERS, order_body((hoodie, 1)), format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "idempotency_key_required" and "Idempotency-Key" in response.json()["fields"]
    assert place(client_for(ann), order_body((hoodie, 1)), key="x" * 256).status_code == 400
    assert not Order.objects.exists()


@pytest.mark.parametrize("quantity", [0, -1, 2**31, 100, "two", None])
def test_bad_quantities_are_400_naming_the_field(ann, hoodie, quantity):
    response = place(client_for(ann), order_body((hoodie, 1), items=[{"variant": hoodie.pk, "quantity": quantity}]))
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "items.0.quantity" in body["fields"], body
    assert not Order.objects.exists() and Variant.objects.get(pk=hoodie.pk).stock == 10


def test_unknown_or_hidden_variants_are_400_naming_the_field(ann, hoodie):
    hidden = VariantFactory(product=ProductFactory(is_visible=False))
    inactive = VariantFactory(is_active=False)
    for variant_id in (999999, hidden.pk, inactive.pk, 2**63):
        body = order_body((hoodie, 1))
        body["items"].append({"variant": variant_id, "quantity": 1})
        response = place(client_for(ann), body, key=f"k{variant_id}")
        assert response.status_code == 400, response.json()
        assert "items.1.variant" in response.json()["fields"], response.json()
    assert not Order.objects.exists()


@pytest.mark.parametrize("change,field", [
    ({"items": []}, "items"),
    ({"shipping_method": "teleport"}, "shipping_method"),
    ({"payment_method": "cash"}, "payment_method"),
    ({"shipping_address": {"name": "A", "line1": "1", "city": "C", "postcode": "1", "country": "ZZ"}},
     "shipping_address.country"),
    ({"card_number": "12"}, "card_number"),
])
def test_bad_order_fields_are_400_naming_the_field(ann, hoodie, change, field):
    response = place(client_for(ann), order_body((hoodie, 1), **change))
    assert response.status_code == 400
    assert field in response.json()["fields"], response.json()


def test_not_enough_stock_is_409_and_a_payment_outage_503_that_the_same_key_retries(ann, bag, monkeypatch):
    from payments.providers import ProviderError
    from payments.providers.test import TestProvider

    response = place(client_for(ann), order_body((bag, 4)), key="a")
    assert response.status_code == 409 and response.json()["code"] == "insufficient_stock"
    assert "items.0.quantity" in response.json()["fields"]
    create = TestProvider.create_payment

    def down(self, payment, **kwargs):
        raise ProviderError("The payment service is not answering.")

    monkeypatch.setattr(TestProvider, "create_payment", down)
    outage = place(client_for(ann), order_body((bag, 1)), key="b")
    assert outage.status_code == 503 and outage.json()["code"] == "payment_unavailable"
    assert Variant.objects.get(pk=bag.pk).stock == 2  # the order stays pending, its stock held
    assert list(Order.objects.values_list("status", flat=True)) == [Order.Status.PENDING_PAYMENT]
    monkeypatch.setattr(TestProvider, "create_payment", create)
    again = place(client_for(ann), order_body((bag, 1)), key="b", pay=False)
    assert again.status_code == 201 and again.json()["payment"]["client_secret"]  # the same key: same order
    assert Order.objects.count() == 1


def test_guests_cannot_order_or_list(hoodie):
    assert place(APIClient(), order_body((hoodie, 1))).status_code == 401
    assert APIClient().get(ORDERS).status_code == 401


def test_customers_see_only_their_own_orders(ann, bob, hoodie):
    number = place(client_for(ann), order_body((hoodie, 1))).json()["number"]
    assert [o["number"] for o in client_for(ann).get(ORDERS).json()["results"]] == [number]
    assert client_for(bob).get(ORDERS).json()["results"] == []
    assert client_for(ann).get(f"{ORDERS}{number}/").json()["number"] == number
    other = client_for(bob).get(f"{ORDERS}{number}/")
    assert other.status_code == 404 and other.json()["code"] == "not_found"


def test_order_summary(ann, bob, hoodie, bag):
    client = client_for(ann)
    empty = client.get(f"{ORDERS}summary/").json()
    assert empty["count"] == 0 and empty["total_spent"] == "0.00" and empty["last_order"] is None
    place(client, order_body((hoodie, 1)), key="1")
    last = place(client, order_body((bag, 1)), key="2").json()
    summary = client.get(f"{ORDERS}summary/").json()
    assert summary["count"] == 2 and summary["total_spent"] == "89.00"  # 45+5 and 34+5
    assert summary["last_order"]["number"] == last["number"] and summary["currency"] == "USD"
    assert client_for(bob).get(f"{ORDERS}summary/").json()["count"] == 0


def test_staff_list_and_filter_every_order(ann, bob, staff, hoodie):
    a = place(client_for(ann), order_body((hoodie, 1))).json()["number"]
    b = place(client_for(bob), order_body((hoodie, 1))).json()["number"]
    admin = client_for(staff)
    assert {o["number"] for o in admin.get("/api/v1/admin/orders/").json()["results"]} == {a, b}
    assert [o["number"] for o in admin.get("/api/v1/admin/orders/", {"customer": bob.pk}).json()["results"]] == [b]
    assert admin.get("/api/v1/admin/orders/", {"status": "cancelled"}).json()["results"] == []
    today = Order.objects.get(number=a).created_at.date().isoformat()
    assert len(admin.get("/api/v1/admin/orders/", {"placed_from": today, "placed_to": today}).json()["results"]) == 2
    assert admin.get("/api/v1/admin/orders/", {"status": "lost"}).status_code == 400
    # Issue 21: an invalid date and an unknown filter are said to be invalid, not ignored.
    bad_date = admin.get("/api/v1/admin/orders/", {"placed_from": "2020-13-45"})
    assert bad_date.status_code == 400 and "placed_from" in bad_date.json()["fields"]
    unknown = admin.get("/api/v1/admin/orders/", {"created_after": "2020-01-01"})
    assert unknown.status_code == 400 and "created_after" in unknown.json()["fields"]
    assert "placed_from" in unknown.json()["detail"]
    for user in (ann, bob):
        assert client_for(user).get("/api/v1/admin/orders/").status_code == 403
    assert APIClient().get("/api/v1/admin/orders/").status_code == 401


def test_staff_move_orders_through_the_lifecycle(ann, staff, hoodie):
    number = place(client_for(ann), order_body((hoodie, 2))).json()["number"]
    url = f"/api/v1/admin/orders/{number}/status"
    admin = client_for(staff)
    no_tracking = admin.post(url, {"status": "fulfilled"}, format="json")
    assert no_tracking.status_code == 409 and no_tracking.json()["code"] == "illegal_transition"
    shipped = admin.post(url, {"status": "fulfilled", "tracking_number": "1Z999"}, format="json")
    assert shipped.status_code == 200 and shipped.json()["status"] == "fulfilled"
    assert shipped.json()["tracking_number"] == "1Z999"
    assert shipped.json()["history"][-1]["to_status"] == "fulfilled"
    illegal = admin.post(url, {"status": "cancelled"}, format="json")
    assert illegal.status_code == 409 and "status" in illegal.json()["fields"]
    assert admin.post(url, {"status": "lost"}, format="json").status_code == 400
    assert admin.post("/api/v1/admin/orders/IS-NOPE/status", {"status": "paid"}, format="json").status_code == 404
    assert client_for(ann).post(url, {"status": "delivered"}, format="json").status_code == 403
    assert Order.objects.get(number=number).status == "fulfilled"


def test_staff_cancel_puts_stock_back(ann, staff, hoodie):
    number = place(client_for(ann), order_body((hoodie, 2))).json()["number"]
    response = client_for(staff).post(f"/api/v1/admin/orders/{number}/status", {"status": "cancelled"},
                                      format="json")
    assert response.status_code == 200 and Variant.objects.get(pk=hoodie.pk).stock == 10
    assert Order.objects.get(number=number).status_changes.last().changed_by == staff


def test_staff_customer_list_detail_and_summary(ann, bob, staff, hoodie):
    place(client_for(ann), order_body((hoodie, 1)))
    admin = client_for(staff)
    rows = {row["email"]: row for row in admin.get("/api/v1/admin/customers/").json()["results"]}
    assert set(rows) == {"ann@example.com", "bob@example.com"}  # staff are not customers
    assert rows["ann@example.com"]["orders_count"] == 1 and rows["ann@example.com"]["total_spent"] == "50.00"
    assert rows["bob@example.com"]["orders_count"] == 0 and rows["bob@example.com"]["first_order_at"] is None
    one = admin.get(f"/api/v1/admin/customers/{ann.pk}/").json()
    assert one["email"] == "ann@example.com" and one["last_order_at"]
    summary = admin.get(f"/api/v1/admin/customers/{ann.pk}/summary/").json()
    assert summary["count"] == 1 and summary["total_spent"] == "50.00" and summary["first_order_at"]
    assert admin.get(f"/api/v1/admin/customers/{staff.pk}/").status_code == 404
    assert admin.get("/api/v1/admin/customers/999999/summary/").status_code == 404
    assert client_for(ann).get(f"/api/v1/admin/customers/{bob.pk}/").status_code == 403


def test_the_billing_address_is_kept_with_the_order(ann, hoodie):
    billing = {"name": "Ann Buyer Ltd", "line1": "9 Invoice Lane", "city": "Leeds", "postcode": "LS1 4AP",
               "country": "GB"}
    placed = place(client_for(ann), order_body((hoodie, 1), billing_address=billing)).json()
    expected = {**billing, "line2": "", "region": "", "phone": ""}
    assert placed["billing_address"] == expected
    assert Order.objects.get(number=placed["number"]).billing_address == expected
    read_back = client_for(ann).get(f"{ORDERS}{placed['number']}/").json()
    assert read_back["billing_address"] == expected
    # Left out, billing goes to the shipping address.
    body = order_body((hoodie, 1))
    del body["billing_address"]
    assert place(client_for(ann), body, key="key-2").json()["billing_address"] is None
