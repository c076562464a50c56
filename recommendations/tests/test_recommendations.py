"""Recommendations (issue 27, first part): "Customers also bought" ranked by lift with a minimum
support, so a bestseller that is in every basket is not recommended everywhere; "Similar products"
by TF-IDF content similarity within a department (the Luma cold start); both stored by
`build_recommendations` and shown on the product page, never sold-out or hidden products."""
import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.urls import reverse

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from orders.tests.factories import cart_with, checkout_details
from payments.testing import place_paid_order
from recommendations import algorithms
from recommendations.models import Recommendation


def test_lift_ranks_real_pairs_above_the_bestseller_in_every_basket():
    tent, stakes, lamp, bestseller, once = 1, 2, 3, 9, 7
    baskets = ([[tent, stakes, bestseller]] * 4 + [[lamp, bestseller]] * 6 + [[stakes, bestseller]] * 2
               + [[tent, once]] + [[bestseller]] * 8)
    result = algorithms.also_bought(baskets, top=5, min_support=3)
    # 21 baskets: tent in 5, stakes in 6, the bestseller in 20. Tent and stakes together in 4: lift
    # 4 x 21 / (5 x 6) = 2.8. Tent and the bestseller together in 4 too, but 4 x 21 / (5 x 20) = 0.84:
    # less than chance, so never "also bought".
    assert result[tent] == [(stakes, pytest.approx(2.8), 4)]
    assert bestseller not in result or tent not in {other for other, _, _ in result[bestseller]}
    assert once not in {other for other, _, _ in result[tent]}  # seen together once: chance
    assert once not in result


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
    items = [(products[name].variants.get(), 1) for name in names]
    return place_paid_order(cart=cart_with(*items), customer=None, details=checkout_details(), idempotency_key=key)


def test_the_product_page_shows_what_was_bought_together_and_similar_products(client, shop):
    for index in range(3):
        buy("Storm Jacket", "Wool Socks", products=shop, key=f"pair-{index}")
        buy("Rain Shell", products=shop, key=f"shell-{index}")
    out = io.StringIO()
    call_command("build_recommendations", "--no-progress", stdout=out)
    assert "6 orders" in out.getvalue()
    again = io.StringIO()
    call_command("build_recommendations", "--if-empty", stdout=again)  # what make run does on each start
    assert again.getvalue().startswith("Recommendations are already built")
    stored = Recommendation.objects.filter(product=shop["Storm Jacket"], kind="also_bought").get()
    assert (stored.recommended, stored.reason) == (shop["Wool Socks"], "Bought together with Storm Jacket in 3 orders")

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
