"""Product cards on listing pages (templates/catalog/_product_cards.html): what a shopper sees
on a card: its link, name, price (a sale's struck regular price), rating, stock line and the
variants the live stock script follows; hostile names escaped."""
import re
from decimal import Decimal

import pytest

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


def cards(page: str) -> list[str]:
    """The <article class="product-card"> elements of a page, whitespace squeezed."""
    found = re.findall(r'<article class="product-card">.*?</article>', page, re.S)
    return [re.sub(r"\s+", " ", card) for card in found]


def card_page(client, category) -> str:
    response = client.get(category.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


# --- What a card shows ------------------------------------------------------------------------------


def test_a_card_on_sale_shows_the_sale_price_the_struck_regular_price_and_its_rating(client):
    shop = CategoryFactory(name="Tees", slug="tees", path="tees", depth=1)
    product = ProductFactory(name="Sale tee", categories=[shop], rating_average=Decimal("4.30"), rating_count=12)
    variant = VariantFactory(product=product, price=Decimal("52.00"), sale_price=Decimal("39.00"), stock=3)

    page = card_page(client, shop)

    [card] = cards(page)
    assert f'<a href="/p/{product.slug}/">' in card and "<h3>Sale tee</h3>" in card
    assert 'class="no-image"' in card  # no photo yet
    assert '<p class="price"> <span class="sale">$39.00</span> <s>$52.00</s> </p>' in card
    assert '<p class="rating" title="4.30 out of 5">★★★★☆ <span>(12)</span></p>' in card
    assert f'<p class="stock in" data-stock-variants="{variant.pk}">In stock</p>' in card


def test_a_sold_out_card_says_so_and_names_every_active_variant_for_live_stock(client):
    shop = CategoryFactory(name="Caps", slug="caps", path="caps", depth=1)
    product = ProductFactory(name="Cap", categories=[shop])
    first, second = (VariantFactory(product=product, stock=0) for _ in range(2))
    VariantFactory(product=product, stock=5, is_active=False)  # not sold: neither counted nor followed

    page = card_page(client, shop)

    assert f'<p class="stock out" data-stock-variants="{first.pk},{second.pk}">Sold out</p>' in page
    assert '<p class="price"> $52.00 </p>' in cards(page)[0]
    assert 'class="rating"' not in page  # no reviews yet


def test_a_card_escapes_the_product_name(client):
    shop = CategoryFactory(name="Bags", slug="bags", path="bags", depth=1)
    ProductFactory(name='Bag <script>alert("x")</script> & Co', categories=[shop], with_variant=True)

    page = card_page(client, shop)

    assert "<h3>Bag &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co</h3>" in page
    assert "<script>alert" not in page


def test_an_empty_grid_shows_the_page_s_message_and_the_home_page_none(client):
    shop = CategoryFactory(name="Socks", slug="socks", path="socks", depth=1)
    assert '<div class="product-grid"><p>No products match these filters.</p></div>' in card_page(client, shop)
    assert "product-grid" not in client.get("/").content.decode()
