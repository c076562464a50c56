"""The product page's reads (catalog.selectors.product_page, the ORM reading the API shares) as a shopper
sees them: which products are found, the order of reviews and photos, breadcrumbs, stock badges,
and the queries they take."""
import json
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.tests.factories import UserFactory
from catalog import selectors, services
from catalog.models import Review, Variant
from catalog.tests.factories import (
    CategoryFactory, ProductFactory, ProductImageFactory, ReviewFactory, VariantFactory,
)

pytestmark = pytest.mark.django_db


def page(client, product) -> str:
    response = client.get(product.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def review_titles(html: str) -> list[str]:
    reviews = html[html.index('<section id="reviews"'):]
    return re.findall(r'<span class="stars"[^>]*>[^<]*</span> ([^<]*)</h3>', reviews)


def test_only_visible_products_with_an_active_variant_are_found(client):
    retired = ProductFactory(name="Retired tee")
    VariantFactory(product=retired, is_active=False)
    hidden = ProductFactory(name="Hidden tee", is_visible=False)
    VariantFactory(product=hidden)
    for product in (retired, hidden, ProductFactory(name="Tee without variants")):
        assert client.get(product.get_absolute_url()).status_code == 404
    assert client.get("/p/no-such-product/").status_code == 404
    VariantFactory(product=retired, size="M")  # an active variant: the product can be bought again
    page_html = page(client, retired)
    assert 'name="size" value="M"' in page_html and "Retired tee" in page_html


def test_reviews_show_featured_first_then_newest_at_most_fifty(client):
    product = VariantFactory().product
    now = timezone.now()
    for number in range(52):
        review = ReviewFactory(product=product, title=f"Review {number:02}")
        Review.objects.filter(pk=review.pk).update(created_at=now - timedelta(days=100 - number))
    featured = ReviewFactory(product=product, title="Oldest but featured", is_featured=True)
    Review.objects.filter(pk=featured.pk).update(created_at=now - timedelta(days=365))
    ReviewFactory(product=product, title="Waiting for staff", status=Review.Status.PENDING)
    services.refresh_product_rating(product_ids=[product.pk])

    titles = review_titles(page(client, product))
    assert titles == ["Oldest but featured"] + [f"Review {number:02}" for number in range(51, 2, -1)]
    assert len(titles) == 50


def test_a_review_shows_once_staff_approve_it(client):
    product = VariantFactory().product
    review = services.submit_review(product=product, user=UserFactory(), rating=4, title="Fits well",
                                    body="True to size.\nWarm.")
    assert "No reviews yet." in page(client, product)
    services.moderate_reviews(review_ids=[review.pk], action="approve")
    html = page(client, product)
    assert review_titles(html) == ["Fits well"] and "No reviews yet." not in html
    assert '<span class="stars" title="4 out of 5">★★★★☆</span>' in html and "True to size.<br>Warm." in html


def test_a_review_staff_delete_in_the_admin_leaves_the_rating_and_the_page(client, admin_client):
    product = VariantFactory().product
    reviews = [services.submit_review(product=product, user=UserFactory(), rating=rating, title=f"Review {rating}",
                                      body="") for rating in (5, 4, 1)]
    services.moderate_reviews(review_ids=[review.pk for review in reviews], action="approve")
    admin_client.post(f"/admin/catalog/review/{reviews[2].pk}/delete/", {"post": "yes"})  # the delete page
    product.refresh_from_db()
    assert (product.rating_count, product.rating_average) == (2, Decimal("4.50"))
    admin_client.post("/admin/catalog/review/", {"action": "delete_selected", "_selected_action": [reviews[0].pk],
                                                 "post": "yes"})  # the list's delete action
    product.refresh_from_db()
    assert (product.rating_count, product.rating_average) == (1, Decimal("4.00"))
    assert review_titles(page(client, product)) == ["Review 4"]


def test_gallery_shows_photos_in_their_order_the_first_as_the_main_image(client):
    product = VariantFactory().product
    third = ProductImageFactory(product=product, position=2)
    first = ProductImageFactory(product=product, position=0)
    second = ProductImageFactory(product=product, position=1)
    also_third = ProductImageFactory(product=product, position=2)  # same position: the older first

    html = page(client, product)
    main = html[html.index("data-gallery-main"):html.index('<div class="thumbs">')]
    assert f'src="{first.image.url}"' in main and 'fetchpriority="high"' in main
    links = re.findall(r'<a href="([^"]+)" data-gallery-thumb data-image-id="\d+">', html)
    assert links == [image.image.url for image in (first, second, third, also_third)]  # pending: the originals


def test_breadcrumbs_lead_to_the_deepest_category(client):
    men = CategoryFactory(name="Men")
    tops = CategoryFactory(name="Tops", parent=men)
    tees = CategoryFactory(name="Tees", parent=tops)
    product = ProductFactory(categories=[men, CategoryFactory(name="Sale"), tees])
    VariantFactory(product=product)
    html = page(client, product)
    crumbs = html[html.index('<nav class="breadcrumbs"'):html.index("</nav>", html.index('<nav class="breadcrumbs"'))]
    assert re.findall(r">([^<]+)</a>", crumbs) == ["Home", "Men", "Tops", "Tees"]


def test_availability_table_badges_and_the_picker_data(client):
    product = ProductFactory(name="Tee")
    low = VariantFactory(product=product, size="S", colour="Gray", stock=3, low_stock_threshold=5,
                         sale_price=Decimal("40.00"))
    VariantFactory(product=product, size="S", colour="Black", stock=0)
    plenty = VariantFactory(product=product, size="M", colour="Gray", stock=20)
    VariantFactory(product=product, size="XL", colour="Black", stock=9, is_active=False)  # not offered
    html = page(client, product)

    table = html[html.index("<tbody>"):html.index("</tbody>")]
    assert re.findall(r"<tr><th scope=\"row\">(\w+)</th>", table) == ["Black", "Gray"]
    assert ('<td><span class="na">&ndash;</span></td>' in table)  # no M in Black
    assert (f'<span class="stock-badge in" data-variant-id="{low.pk}" data-low-stock="5" title="{low.sku}">'
            "Only 3 left</span>") in table
    assert f'data-variant-id="{plenty.pk}" data-low-stock="5" title="{plenty.sku}">In stock</span>' in table
    # (as a value or a label: a random nonce or token on the page may hold the letters XL)
    assert table.count("Sold out") == 1 and '"XL"' not in html and ">XL<" not in html
    assert '"M"' in html and ">M<" in html  # how an offered size shows
    assert '<span class="sale">$40.00</span> <s>$52.00</s>' in html
    data = json.loads(re.search(r'<script id="variant-data" type="application/json">(.*?)</script>', html).group(1))
    assert [(v["size"], v["colour"], v["price"], v["regular_price"]) for v in data] == [
        ("S", "Gray", "40.00", "52.00"), ("S", "Black", "52.00", "52.00"), ("M", "Gray", "52.00", "52.00")]


def test_a_product_without_options_posts_its_one_variant(client):
    variant = VariantFactory(product=ProductFactory(name="Bag"), stock=0)
    html = page(client, variant.product)
    assert f'<input type="hidden" name="variant" value="{variant.pk}">' in html
    assert (f'<p class="chosen-variant" data-chosen-variant aria-live="polite"><span class="stock-badge out" '
            f'data-variant-id="{variant.pk}" data-low-stock="5">Sold out</span></p>') in html
    assert 'disabled data-add-to-cart>Sold out</button>' in html
    assert "<fieldset" not in html.split('data-variant-picker>')[1].split("</form>")[0]  # no size or colour


def test_the_page_reads_what_the_api_reads_in_a_fixed_number_of_queries():
    """product_page is product_detail's reading (the API's) under the names the page uses: the
    same variants, images, categories and reviews, in 4 queries however many there are, and a
    fifth for the reviews when its rating count says it has some."""
    product = ProductFactory(categories=[CategoryFactory(), CategoryFactory()])
    for size in ("S", "M", "L"):
        VariantFactory(product=product, size=size)
    ProductImageFactory(product=product)
    ProductImageFactory(product=product)

    with CaptureQueriesContext(connection) as queries:
        read = selectors.product_page(product.slug)
    assert len(queries) == 4  # the product with its variants, images, renditions, categories
    assert [v.size for v in read.active_variants] == ["S", "M", "L"] and len(read.category_ids) == 2
    assert len(read.gallery) == 2 and read.approved_reviews == []

    ReviewFactory(product=product)
    VariantFactory(product=product, size="XL", is_active=False)
    services.refresh_product_rating(product_ids=[product.pk])
    with CaptureQueriesContext(connection) as queries:
        read = selectors.product_page(product.slug)
    api = selectors.product_detail(product.slug)
    assert len(queries) == 5 and len(read.approved_reviews) == 1
    assert read.active_variants == api.active_variants and read.gallery == api.gallery
    assert read.category_ids == [c.pk for c in api.category_list] and read.approved_reviews == api.approved_reviews
    assert [v.pk for v in read.active_variants] == [v.pk for v in product.variants.filter(is_active=True).order_by("position", "pk")]
    assert isinstance(read.active_variants[0], Variant) and read.active_variants[0].price == Decimal("52.00")
