"""POST /api/v1/recommendations (issue 27): the seeds' request and response shape, item-to-item
with `product_id`, personal for a customer (what they bought is left out), and the usual JSON
errors: 400 for a bad algorithm, 401 logged out, 403 for another customer, 404 unknown ids."""
import pytest
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from catalog.tests.factories import CategoryFactory
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order
from recommendations.tests.test_recommendations import buy, shop  # noqa: F401 - fixture

URL = "/api/v1/recommendations"


@pytest.fixture
def built(shop):  # noqa: F811 - the fixture above
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
        buy("Rain Shell", products=shop, key=f"shell-{index}")
    customer = UserFactory(email="ann@example.com")
    place_paid_order(cart=cart_with((shop["Storm Jacket"].variants.get(), 1)), customer=customer,
                     details=checkout_details(), idempotency_key="ann")
    call_command("build_recommendations", "--no-progress")
    client = APIClient()
    client.force_authenticate(customer)
    return shop, customer, client


def names(body) -> list[str]:
    return [item["product"]["name"] for item in body["recommendations"]]


def test_item_to_item_answers_in_the_seeds_shape(built):
    shop, _, client = built
    response = client.post(URL, {"product_id": shop["Storm Jacket"].pk, "limit": 2}, format="json")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert set(body) == {"recommendations", "algorithm_used", "confidence_score", "generated_at"}
    assert names(body) == ["Wool Socks", "Rain Shell"] and body["algorithm_used"] == "hybrid"
    first = body["recommendations"][0]
    assert first["reason"] == "Bought together with Storm Jacket by 3 customers" and 0 < first["confidence"] <= 1
    assert set(first["product"]) == {"id", "name", "slug", "url"}
    only_similar = client.post(URL, {"product_id": shop["Storm Jacket"].pk, "algorithm": "similar"}, format="json")
    assert names(only_similar.json())[0] == "Rain Shell"
    excluded = client.post(URL, {"product_id": shop["Storm Jacket"].pk, "exclude_products": [shop["Wool Socks"].pk],
                                 "limit": 1}, format="json")
    assert names(excluded.json()) == ["Rain Shell"]
    elsewhere = CategoryFactory(name="Bags", slug="bags", path="bags")
    none_there = client.post(URL, {"product_id": shop["Storm Jacket"].pk, "include_categories": [elsewhere.pk]},
                             format="json")
    assert names(none_there.json()) == []


def test_a_customer_gets_personal_recommendations_without_what_they_bought(built):
    shop, customer, client = built
    body = client.post(URL, {"user_id": customer.pk, "algorithm": "personal", "limit": 3}, format="json").json()
    assert "Storm Jacket" not in names(body) and names(body)[0] == "Wool Socks"


def test_errors_are_json_with_the_right_status(built):
    shop, customer, client = built
    assert APIClient().post(URL, {"product_id": shop["Storm Jacket"].pk}, format="json").status_code == 401
    other = UserFactory(email="other@example.com")
    assert client.post(URL, {"user_id": other.pk}, format="json").status_code == 403
    assert client.post(URL, {"product_id": 99999999}, format="json").status_code == 404
    bad = client.post(URL, {"product_id": shop["Storm Jacket"].pk, "algorithm": "magic"}, format="json")
    assert bad.status_code == 400 and list(bad.json()["fields"]) == ["algorithm"]
    assert client.post(URL, {}, format="json").status_code == 400
    staff = APIClient()
    staff.force_authenticate(UserFactory(email="boss@example.com", is_staff=True))
    assert staff.post(URL, {"user_id": customer.pk}, format="json").status_code == 200
    assert staff.post(URL, {"user_id": 99999999}, format="json").status_code == 404


def test_the_cart_and_a_customers_home_page_get_their_rails(built, client):
    shop, customer, _ = built
    assert client.get(reverse("recommendations:for_you")).content.decode().strip() == ""  # a guest: nothing
    assert 'hx-get="/recommendations/for-you/"' not in client.get("/").content.decode()
    client.post(reverse("orders:cart_add"), {"product": shop["Storm Jacket"].pk, "quantity": 1})
    assert 'hx-get="/recommendations/cart/"' in client.get(reverse("orders:cart")).content.decode()
    [cart_rail] = client.get(reverse("recommendations:cart")).context["rails"]
    assert (cart_rail.title, cart_rail.cards[0].name) == ("You may also like", "Wool Socks")

    client.force_login(customer)
    assert 'hx-get="/recommendations/for-you/"' in client.get("/").content.decode()
    [for_you] = client.get(reverse("recommendations:for_you")).context["rails"]
    assert for_you.title == "Picked for you" and "Storm Jacket" not in [card.name for card in for_you.cards]
    assert for_you.cards[0].name == "Wool Socks"
