"""Storefront pages through the Django client: listing, filters, product page, search."""
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from branding.selectors import stored_branding
from catalog import services
from catalog.models import Category
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, ReviewFactory, VariantFactory

pytestmark = pytest.mark.django_db


def make_products(category, count, **variant_kwargs):
    products = []
    for _ in range(count):
        product = ProductFactory()
        product.categories.add(category)
        VariantFactory(product=product, **variant_kwargs)
        ProductImageFactory(product=product)
        ReviewFactory(product=product)
        products.append(product)
    return products


def count_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response


def test_category_page_query_count_does_not_grow_with_products(client, settings):
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0  # count every query (conftest)
    jackets = CategoryFactory(name="Jackets", path="men/jackets", slug="jackets", depth=2,
                              parent=CategoryFactory(name="Men", path="men", slug="men", depth=1))
    make_products(jackets, 1)
    stored_branding()  # the shop's branding, cached as every page after the first finds it (branding.selectors)
    one, response = count_queries(client, jackets.get_absolute_url())
    assert len(response.context["products"]) == 1
    make_products(jackets, 30)
    full, response = count_queries(client, jackets.get_absolute_url())
    assert len(response.context["products"]) == 24  # a full page
    assert one == full
    # the category tree (catalog/tree.py: category, breadcrumbs, subcategories, nav; read again
    # because the catalogue changed), facets (2), the capped count, the keyset page's ids, and the
    # cards (catalog.selectors.load_cards: products with prices and stock, variants, first images,
    # renditions)
    assert full <= 9
    deep, response = count_queries(client, jackets.get_absolute_url() + "?last=1")
    assert len(response.context["products"]) == 24  # the Last link: the last full page
    assert deep == full - 1  # the catalogue has not changed since: the tree is not read again


def test_subcategory_products_show_in_parent_with_breadcrumbs(client):
    men = CategoryFactory(name="Men", slug="men", path="men", depth=1)
    hoodies = CategoryFactory(name="Hoodies & Sweatshirts", slug="hoodies-sweatshirts",
                              path="men/hoodies-sweatshirts", depth=2, parent=men)
    [product] = make_products(hoodies, 1)
    page = client.get(men.get_absolute_url()).content.decode()
    assert product.name in page and "Hoodies &amp; Sweatshirts" in page
    crumbs = client.get(hoodies.get_absolute_url()).context["breadcrumbs"]
    assert [c.name for c in crumbs] == ["Men", "Hoodies & Sweatshirts"]


def test_filters_combine_on_one_variant_and_survive_pagination(client):
    tees = CategoryFactory(name="Tees", slug="tees", path="tees", depth=1)
    for i in range(30):  # 30 products with M/Gray in stock
        product = ProductFactory(name=f"Gray tee {i:02}")
        product.categories.add(tees)
        VariantFactory(product=product, size="M", colour="Gray", stock=3, price=Decimal("20.00"))
    split = ProductFactory(name="Split tee")  # M only in Black, Gray only in L: must not match M+Gray
    split.categories.add(tees)
    VariantFactory(product=split, size="M", colour="Black", stock=3)
    VariantFactory(product=split, size="L", colour="Gray", stock=3)
    sold_out = ProductFactory(name="Sold out tee")
    sold_out.categories.add(tees)
    VariantFactory(product=sold_out, size="M", colour="Gray", stock=0)

    url = tees.get_absolute_url() + "?size=M&colour=Gray&in_stock=on&sort=name"
    first = client.get(url)
    names = [p.name for p in first.context["products"]]
    assert first.context["page"].count == 30 and "30 products" in first.content.decode()
    assert "Split tee" not in names and "Sold out tee" not in names
    cursor = first.context["page"].next_cursor
    next_link = f'href="?size=M&amp;colour=Gray&amp;in_stock=on&amp;sort=name&amp;after={cursor}&amp;page=2"'
    assert next_link in first.content.decode()
    second = client.get(url + f"&after={cursor}")
    assert [p.name for p in second.context["products"]] == [f"Gray tee {i:02}" for i in range(24, 30)]
    assert client.get(tees.get_absolute_url() + "?max_price=10").context["page"].count == 0
    assert client.get(tees.get_absolute_url() + "?min_price=abc").status_code == 200  # bad input is ignored


def test_sorting_by_price(client):
    shop = CategoryFactory(name="Gear", slug="gear", path="gear", depth=1)
    for name, price in [("Mid", "30.00"), ("Cheap", "10.00"), ("Dear", "90.00")]:
        product = ProductFactory(name=name)
        product.categories.add(shop)
        VariantFactory(product=product, price=Decimal(price))
    ascending = client.get(shop.get_absolute_url() + "?sort=price").context["products"]
    descending = client.get(shop.get_absolute_url() + "?sort=-price").context["products"]
    assert [p.name for p in ascending] == ["Cheap", "Mid", "Dear"]
    assert [p.name for p in descending] == ["Dear", "Mid", "Cheap"]


def test_product_page_shows_price_sale_stock_and_reviews(client):
    product = ProductFactory(name="Chaz Kangeroo Hoodie")
    VariantFactory(product=product, size="M", colour="Gray", stock=4, price=Decimal("52.00"),
                   sale_price=Decimal("45.00"))
    VariantFactory(product=product, size="L", colour="Gray", stock=0, price=Decimal("52.00"))
    ReviewFactory(product=product, title="Warm and cosy", rating=5)
    ReviewFactory(product=product, title="Hidden", rating=1, status="pending")
    services.refresh_product_rating(product_ids=[product.pk])  # as approving reviews does
    page = client.get(reverse("catalog:product", args=[product.slug])).content.decode()
    assert "$45.00" in page and "<s>$52.00</s>" in page
    assert "Only 4 left" in page and "Sold out" in page
    assert "Warm and cosy" in page and "Hidden" not in page
    assert 'name="size" value="M"' in page and 'name="colour" value="Gray"' in page


def test_hidden_products_and_categories_404(client):
    product = ProductFactory(is_visible=False)
    VariantFactory(product=product)
    assert client.get(reverse("catalog:product", args=[product.slug])).status_code == 404
    assert client.get("/c/no/such/category/").status_code == 404


def test_search_finds_by_name_and_ranks_name_matches_first(client):
    hoodie = ProductFactory(name="Chaz Kangeroo Hoodie", description="<p>Warm fleece for cold runs.</p>")
    VariantFactory(product=hoodie)
    jacket = ProductFactory(name="Montana Wind Jacket", description="<p>Wear over a hoodie on windy days.</p>")
    VariantFactory(product=jacket)
    results = [p.name for p in client.get(reverse("catalog:search") + "?q=hoodie").context["products"]]
    assert results[0] == "Chaz Kangeroo Hoodie"
    assert "Montana Wind Jacket" in results
    assert client.get(reverse("catalog:search") + "?q=").status_code == 200


def test_search_tolerates_typos(client):
    hoodie = ProductFactory(name="Chaz Kangeroo Hoodie")
    VariantFactory(product=hoodie)
    results = [p.name for p in client.get(reverse("catalog:search") + "?q=kangaroo+hoddie").context["products"]]
    assert results == ["Chaz Kangeroo Hoodie"]


def test_home_page_shows_categories_new_arrivals_and_sale(client):
    women = CategoryFactory(name="Women", slug="women", path="women", depth=1)
    sale = ProductFactory(name="Sale Bag", categories=[women])
    VariantFactory(product=sale, price=Decimal("40.00"), sale_price=Decimal("30.00"))
    page = client.get("/").content.decode()
    assert "Women" in page and "Sale Bag" in page and "On sale" in page
    assert Category.objects.count() == 1
