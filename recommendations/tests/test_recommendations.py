"""Recommendations (issue 27, first part): "Customers also bought" ranked by cosine over customers
with a minimum support, so a bestseller everyone buys does not outrank what the same customers
bought; "Similar products"
by TF-IDF content similarity within a department (the Luma cold start); both stored by
`build_recommendations` and shown on the product page, never sold-out or hidden products."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order
from recommendations import algorithms
from recommendations.models import Recommendation


def test_what_the_same_customers_bought_ranks_above_the_bestseller_everyone_buys():
    tent, stakes, lamp, bestseller, once = 1, 2, 3, 9, 7
    histories = ([[tent, stakes, bestseller]] * 4 + [[lamp, bestseller]] * 6 + [[stakes, bestseller]] * 2
                 + [[tent, once]] + [[bestseller]] * 8)
    result = algorithms.also_bought(histories, top=5, min_support=3)
    # Tent bought by 5 customers, stakes by 6, the bestseller by 20; 4 bought tent and stakes, 4 tent
    # and the bestseller: cosine 4 / sqrt(5 x 6) = 0.73 against 4 / sqrt(5 x 20) = 0.40.
    assert [(other, round(score, 2), both) for other, score, both in result[tent]] == [
        (stakes, 0.73, 4), (bestseller, 0.4, 4)]
    assert once not in {other for other, _, _ in result[tent]} and once not in result  # once is chance


def test_similar_finds_the_same_kind_of_thing_within_a_department():
    texts = {1: "Trail running shoe grip mesh", 2: "Road running shoe mesh light", 3: "Wool winter hat warm",
             4: "Trail running shoe grip"}
    groups = {1: {"men"}, 2: {"men"}, 3: {"men"}, 4: {"women"}}
    plain = algorithms.similar(texts, top=2)
    assert plain[1][0][0] == 4  # the same words
    grouped = algorithms.similar(texts, top=2, groups=groups)
    assert grouped[1][0][0] == 2  # the same words, in the same department first
    assert 3 not in {other for other, _ in grouped[1]}


@pytest.fixture
def shop(db):
    men = CategoryFactory(name="Men", slug="men", path="men")
    jackets = CategoryFactory(name="Jackets", slug="jackets", path="men/jackets", parent=men, depth=2)
    products = {}
    for name, text in [("Storm Jacket", "waterproof storm jacket hood"), ("Rain Shell", "waterproof rain shell hood"),
                       ("Wool Socks", "merino wool socks"), ("Sold Out Shell", "waterproof shell hood"),
                       ("Hidden Jacket", "waterproof jacket hood")]:
        product = ProductFactory(name=name, description=text, categories=[jackets],
                                 is_visible=name != "Hidden Jacket")
        VariantFactory(product=product, sku=name.upper().replace(" ", "-"), price=Decimal("40.00"),
                       stock=0 if name == "Sold Out Shell" else 100)
        products[name] = product
    return products


def buy(*names, products, key):
    """A guest order of one of each of `names`, by a guest of its own (known by the email)."""
    items = [(products[name].variants.get(), 1) for name in names]
    return place_paid_order(cart=cart_with(*items), customer=None, details=checkout_details(email=f"{key}@example.com"),
                            idempotency_key=key)


def test_the_product_page_shows_what_was_bought_together_and_similar_products(client, shop):
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
        buy("Rain Shell", products=shop, key=f"shell-{index}")
    out = io.StringIO()
    call_command("build_recommendations", "--no-progress", stdout=out)
    assert "6 customers" in out.getvalue()
    again = io.StringIO()
    call_command("build_recommendations", "--if-empty", stdout=again)  # what make run does on each start
    assert again.getvalue().startswith("Recommendations are already built")
    stored = Recommendation.objects.filter(product=shop["Storm Jacket"], kind="also_bought").get()
    assert (stored.recommended, stored.reason) == (shop["Wool Socks"], "Bought together with Storm Jacket by 3 customers")

    page = client.get(shop["Storm Jacket"].get_absolute_url()).content.decode()
    rails_url = reverse("recommendations:product_rails", args=[shop["Storm Jacket"].pk])
    assert f'hx-get="{rails_url}"' in page  # fetched when scrolled near
    rails = client.get(rails_url)
    assert [(rail.title, [card.name for card in rail.cards]) for rail in rails.context["rails"]] == [
        ("Customers also bought", ["Wool Socks"]), ("Similar products", ["Rain Shell"])]
    # The sold-out shell and the hidden jacket are as similar, and never shown.
    assert "Sold Out Shell" not in rails.content.decode() and "Hidden Jacket" not in rails.content.decode()


def test_a_product_without_recommendations_gets_an_empty_fragment(client, shop):
    response = client.get(reverse("recommendations:product_rails", args=[shop["Wool Socks"].pk]))
    assert response.status_code == 200 and response.content.decode().strip() == ""


def test_staff_pin_and_block_recommendations_per_product(client, shop, admin_client):
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
        buy("Rain Shell", products=shop, key=f"shell-{index}")
    call_command("build_recommendations", "--no-progress")
    socks = VariantFactory(product=ProductFactory(name="Gaiters", categories=shop["Storm Jacket"].categories.all()),
                           stock=5).product
    assert admin_client.get(reverse("admin:recommendations_rule_changelist")).status_code == 200
    response = admin_client.post(reverse("admin:recommendations_rule_add"), {
        "product": shop["Storm Jacket"].pk, "recommended": socks.pk, "action": "pin"})
    assert response.status_code == 302
    admin_client.post(reverse("admin:recommendations_rule_add"), {
        "product": shop["Storm Jacket"].pk, "recommended": shop["Wool Socks"].pk, "action": "block"})

    rails = client.get(reverse("recommendations:product_rails", args=[shop["Storm Jacket"].pk])).context["rails"]
    assert [(rail.title, [card.name for card in rail.cards]) for rail in rails] == [
        ("Goes well with", ["Gaiters"]), ("Similar products", ["Rain Shell"])]  # the socks are blocked
    api = APIClient()
    api.force_authenticate(UserFactory(email="ann@example.com"))
    body = api.post("/api/v1/recommendations", {"product_id": shop["Storm Jacket"].pk}, format="json").json()
    assert [item["product"]["name"] for item in body["recommendations"]][:2] == ["Gaiters", "Rain Shell"]
    assert body["recommendations"][0]["reason"] == "Picked by our staff"


def test_clicks_on_recommendations_are_events_and_the_dashboard_shows_their_click_through_rate(client, shop,
                                                                                             admin_client):
    from analytics import events, rollups

    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
        buy("Rain Shell", products=shop, key=f"shell-{index}")
    call_command("build_recommendations", "--no-progress")
    events.clear_buffer()
    rails = client.get(reverse("recommendations:product_rails", args=[shop["Storm Jacket"].pk])).content.decode()
    link = f'{shop["Wool Socks"].get_absolute_url()}?ref=rec-also_bought'
    assert f'href="{link}"' in rails  # the card says where the click comes from
    assert client.get(link).status_code == 200
    client.get(shop["Rain Shell"].get_absolute_url())  # a plain view: not a click on a recommendation
    events.flush()
    rollups.rebuild(start=timezone.localdate())  # what beat (or a worker starting) does
    dashboard = admin_client.get(reverse("analytics:dashboard"), {"range": "7"})
    rows = {row["rail"]: (row["shown"], row["clicked"], row["ctr"]) for row in dashboard.context["recommendations"]}
    assert rows == {"also_bought": (1, 1, Decimal("100.00")), "similar": (1, 0, Decimal("0.00"))}
    assert "Customers also bought" in dashboard.content.decode()
