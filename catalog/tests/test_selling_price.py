"""One selling-price rule (catalog.models.selling_price in SQL, Variant.unit_price in Python): a
sale price at or above the price is refused everywhere it can be written, and the price filter,
the price sort, the listing card, the product page, the cart and the API all show the same price."""
from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from catalog.models import Product, Variant
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client():
    user = get_user_model().objects.create_superuser(email="boss@example.com", password="x-long-password-1")
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_database_refuses_a_sale_price_at_or_above_the_price():
    variant = VariantFactory(price=Decimal("40.00"), sale_price=Decimal("30.00"))
    for bad in (Decimal("40.00"), Decimal("45.00")):
        with pytest.raises(IntegrityError), transaction.atomic():
            Variant.objects.filter(pk=variant.pk).update(sale_price=bad)
    assert Variant.objects.get(pk=variant.pk).sale_price == Decimal("30.00")


def test_the_admin_names_the_sale_price_field(client):
    admin = get_user_model().objects.create_superuser(email="boss@example.com", password="x-long-password-1")
    client.force_login(admin)
    variant = VariantFactory(price=Decimal("40.00"), stock=3)
    data = {"product": variant.product_id, "sku": variant.sku, "name": "", "size": "", "colour": "",
            "price": "40.00", "sale_price": "40.00", "stock": "3", "low_stock_threshold": "5", "position": "0",
            "is_active": "on"}
    response = client.post(reverse("admin:catalog_variant_change", args=[variant.pk]), data)
    assert response.status_code == 200  # the form again, not a redirect
    assert response.context["adminform"].form.errors == {
        "sale_price": ["The sale price must be below the price (leave it empty for no sale)."]}
    assert Variant.objects.get(pk=variant.pk).sale_price is None


def test_the_api_answers_400_on_sale_price(staff_client):
    variant = VariantFactory(price=Decimal("40.00"), sale_price=Decimal("30.00"))
    url = f"/api/v1/variants/{variant.pk}/"
    for body in ({"sale_price": "40.00"}, {"sale_price": "99.00"}, {"price": "25.00"},
                 {"price": "9", "sale_price": "9"}):
        response = staff_client.patch(url, body, format="json")
        assert response.status_code == 400, body
        assert list(response.json()["fields"]) == ["sale_price"], response.json()
    created = staff_client.post("/api/v1/variants/", {"product": variant.product_id, "sku": "NEW-1", "price": "10.00",
                                                      "sale_price": "12.00"}, format="json")
    assert created.status_code == 400 and "sale_price" in created.json()["fields"]
    assert staff_client.patch(url, {"sale_price": "35.00"}, format="json").status_code == 200
    assert staff_client.patch(url, {"sale_price": None}, format="json").json()["sale_price"] is None


@pytest.fixture
def shelf():
    """Three products on one shelf: a plain one, one on sale, one whose cheapest variant is on sale
    below another variant's regular price."""
    tees = CategoryFactory(name="Tees", slug="tees", path="tees")
    plain = ProductFactory(name="Plain", categories=[tees])
    VariantFactory(product=plain, price=Decimal("30.00"), stock=5)
    sale = ProductFactory(name="Sale", categories=[tees])
    VariantFactory(product=sale, price=Decimal("50.00"), sale_price=Decimal("20.00"), stock=5)
    mixed = ProductFactory(name="Mixed", categories=[tees])
    VariantFactory(product=mixed, size="S", price=Decimal("26.00"), stock=5)
    VariantFactory(product=mixed, size="M", price=Decimal("60.00"), sale_price=Decimal("25.00"), stock=5)
    return tees


def test_filter_sort_cards_page_cart_and_api_agree_on_the_selling_price(client, shelf, settings):
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    expected = {"Sale": Decimal("20.00"), "Mixed": Decimal("25.00"), "Plain": Decimal("30.00")}

    cards = client.get(f"{shelf.get_absolute_url()}?sort=price").context["products"]
    assert [(c.name, c.price_from) for c in cards] == list(expected.items())  # the sort and the cards
    assert [c.name for c in client.get(f"{shelf.get_absolute_url()}?max_price=25").context["products"]] == [
        "Mixed", "Sale"]  # the filter: Mixed sells at 25.00, Plain at 30.00
    assert [c.name for c in client.get(f"{shelf.get_absolute_url()}?min_price=27").context["products"]] == ["Plain"]

    api = APIClient().get("/api/v1/products/", {"ordering": "price", "max_price": "25"}).json()["results"]
    assert [(p["name"], Decimal(p["price_from"])) for p in api] == [("Sale", Decimal("20.00")),
                                                                     ("Mixed", Decimal("25.00"))]
    mixed = Product.objects.get(name="Mixed")
    detail = APIClient().get(f"/api/v1/products/{mixed.slug}/").json()
    assert {v["size"]: v["unit_price"] for v in detail["variants"]} == {"S": "26.00", "M": "25.00"}

    page = client.get(mixed.get_absolute_url())
    assert page.context["picker"].price_from == Decimal("25.00") and page.context["picker"].on_sale

    medium = mixed.variants.get(size="M")
    client.post(reverse("orders:cart_add"), {"product": mixed.pk, "size": "M", "quantity": 2})
    [(cart_line, priced_line)] = client.get(reverse("orders:cart")).context["rows"]
    assert (cart_line.variant, priced_line.unit_price, priced_line.line_total) == (
        medium, Decimal("25.00"), Decimal("50.00"))

