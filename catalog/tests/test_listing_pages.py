"""Keyset pagination of listings and the page cache of category and product pages."""
import html
import json
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from analytics import events
from branding.selectors import stored_branding
from catalog import services, versions
from catalog.pagination import decode_cursor, encode_cursor
from catalog.selectors import SORT_KEYS
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from catalog.tree import category_tree
from payments.testing import checkout_and_approve
from shop import pagecache

pytestmark = pytest.mark.django_db


@pytest.fixture
def shelf(settings):
    """A category of 23 products, 5 a page; prices, ratings (some none) and names that tie."""
    settings.SHOP_PRODUCTS_PER_PAGE = 5
    category = CategoryFactory(name="Shelf", slug="shelf", path="shelf", depth=1)
    for i in range(23):
        product = ProductFactory(name=f"Item {i % 7}", rating_average=None if i % 4 == 0 else Decimal(i % 5),
                                 rating_count=i % 3)
        product.categories.add(category)
        VariantFactory(product=product, price=Decimal(10 + i % 6), stock=i % 2, size="SML"[i % 3],
                       colour=("Red", "Blue")[i % 2])
    return category


def walk(client, url, link="next_cursor", param="after", take=lambda card: card.pk):
    """Follow one kind of link from `url` to the end; return `take` of every card seen (its pk), in
    order, and the number of pages."""
    seen, pages = [], 0
    response = client.get(url)
    while True:
        pages += 1
        assert pages < 50, "the Next links do not come to an end"
        page = response.context["page"]
        seen.extend(take(card) for card in page.items)
        cursor = getattr(page, link)
        if cursor is None:
            return seen, pages
        response = client.get(f"{url}{'&' if '?' in url else '?'}{param}={cursor}")


@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_next_and_previous_links_walk_every_product_once_in_order(client, shelf, sort):
    from catalog.models import Product
    from catalog.selectors import product_cards, sort_products

    expected = [p.pk for p in sort_products(product_cards(Product.objects.visible()), sort)]
    url = f"{shelf.get_absolute_url()}?sort={sort}"
    forward, pages = walk(client, url)
    assert forward == expected and pages == 5
    # From the Last link backwards through Previous links: the same products, pages in reverse.
    last = client.get(url + "&last=1")
    assert [p.pk for p in last.context["page"].items] == expected[-5:]  # the last five, full page
    backward, pages = [], 0
    response = last
    while True:
        pages += 1
        assert pages < 50, "the Previous links do not come to an end"
        backward[:0] = [p.pk for p in response.context["page"].items]
        cursor = response.context["page"].previous_cursor
        if cursor is None:
            break
        response = client.get(f"{url}&before={cursor}")
    assert backward == expected and pages == 5


def test_the_page_links_keep_the_filters_and_lead_through_every_page(client, shelf):
    """A shopper clicking Next from the first page to the end, then page 1, the last page's number
    and Previous: each link keeps the chosen sort and filters (escaped in the HTML), and the pages
    hold what the listing holds."""
    def follow(page: str, label: str) -> str | None:
        found = re.search(r'<a (?:rel="\w+" )?href="([^"]*)">' + label, page)
        return None if found is None else html.unescape(found.group(1))

    url = shelf.get_absolute_url() + "?sort=price&colour=Red"
    page = client.get(url).content.decode()
    first, last_number = '<span class="visually-hidden">Page </span>1<', '<span class="visually-hidden">Page </span>3<'
    assert "12 products" in page and follow(page, first) is None and follow(page, "&larr; Previous") is None
    names, pages = [], 0
    while True:
        pages += 1
        names += re.findall(r"<h3>(.*?)</h3>", page)
        link = follow(page, "Next &rarr;")
        if link is None:
            break
        assert link.startswith("?sort=price&colour=Red&after=") and "&amp;" in page
        page = client.get(shelf.get_absolute_url() + link).content.decode()
    assert pages == 3 and len(names) == 12 and follow(page, last_number) is None
    assert follow(page, first) == "?sort=price&colour=Red"
    previous = client.get(shelf.get_absolute_url() + follow(page, "&larr; Previous")).content.decode()
    assert re.findall(r"<h3>(.*?)</h3>", previous) == names[5:10]
    last = client.get(shelf.get_absolute_url() + follow(client.get(url).content.decode(), last_number))
    assert re.findall(r"<h3>(.*?)</h3>", last.content.decode()) == names[10:]  # page 3: the last two


def test_a_bad_cursor_shows_the_first_page(client, shelf):
    first = client.get(shelf.get_absolute_url()).context["page"].items
    for junk in ["nonsense", "W10", encode_cursor(["x"]), encode_cursor([1, 2]), "%00", "A" * 3000]:
        response = client.get(shelf.get_absolute_url(), {"after": junk})
        assert response.status_code == 200
        assert response.context["page"].items == first


def test_listing_facets_and_count_are_cached_so_a_page_does_not_read_every_variant(client, shelf, settings):
    settings.SHOP_FACETS_CACHE_SECONDS = 600
    category_tree()  # read now (catalog.tree), so that the two pages differ only by the cache
    stored_branding()  # and the shop's branding (branding.selectors), which every page finds cached
    one, first = get(client, shelf.get_absolute_url())
    two, second = get(client, shelf.get_absolute_url() + "?sort=price")
    assert second == first - 3  # the sizes and colours on offer, and the count, come from the cache
    offered = lambda response: [list(response.context["filter"].form.fields[f].choices) for f in ("size", "colour")]  # noqa: E731
    assert offered(two) == offered(one) and offered(one)[1]
    assert "23 products" in two.content.decode()


def test_a_cached_count_follows_every_change_the_listing_shows(transactional_db, client, shelf, settings):
    """The count is kept under the category page's versions: selling out and hiding a product
    change it at once, with the filters that depend on them (real commits: the versions
    move after the writing transaction commits)."""
    settings.SHOP_FACETS_CACHE_SECONDS = 600
    count = lambda query="": client.get(shelf.get_absolute_url() + query).context["page"].count  # noqa: E731
    assert (count(), count("?in_stock=on"), count("?size=S")) == (23, 11, 8)
    assert (count(), count("?in_stock=on"), count("?size=S")) == (23, 11, 8)  # now from the cache
    product = shelf.products.filter(variants__stock__gt=0, variants__size="S").first()
    services.set_stock(variant=product.variants.get(), stock=0)
    assert (count(), count("?in_stock=on"), count("?size=S")) == (23, 10, 8)
    product.is_visible = False
    product.save()
    assert (count(), count("?in_stock=on"), count("?size=S")) == (22, 10, 7)


def test_cursor_round_trip_keeps_types():
    keys = SORT_KEYS["rating"]
    assert decode_cursor(encode_cursor([Decimal("4.50"), 3, 17]), keys) == [Decimal("4.50"), 3, 17]
    assert decode_cursor(encode_cursor([None, 0, 5]), keys) == [None, 0, 5]
    assert decode_cursor(encode_cursor(["4.5", "3", 17]), keys) is None  # a count must be a number


def test_search_results_page_by_relevance(client, settings):
    settings.SHOP_PRODUCTS_PER_PAGE = 2
    for name in ["Hoodie", "Zip Hoodie", "Hoodie Hoodie", "Warm Hoodie", "Jacket"]:
        VariantFactory(product=ProductFactory(name=name, description="<p>hoodie weather</p>"))
    url = reverse("catalog:search") + "?q=hoodie"
    everything = [p.pk for p in client.get(url + "&sort=relevance").context["products"]]
    seen, pages = walk(client, url)
    assert len(seen) == len(set(seen)) == 5 and pages == 3
    assert seen[:2] == everything


# --- The page cache -----------------------------------------------------------------------------

@pytest.fixture
def cached(settings, transactional_db):
    """The page cache on, and real commits: invalidation runs after the writing transaction commits."""
    settings.SHOP_PAGE_CACHE_SECONDS = 300


@pytest.fixture
def hoodie():
    category = CategoryFactory(name="Hoodies", slug="hoodies", path="men/hoodies", depth=2,
                               parent=CategoryFactory(name="Men", slug="men", path="men", depth=1))
    product = ProductFactory(name="Chaz Kangeroo Hoodie")
    product.categories.add(category)
    variant = VariantFactory(product=product, size="M", colour="Gray", stock=4, price=Decimal("52.00"))
    return variant


def buffered_events() -> list[dict]:
    """The page-view events waiting in analytics' buffer, oldest first."""
    if settings.REDIS_URL:
        events.push_batch()
        return [json.loads(item) for item in events._redis().lrange(events.BUFFER_KEY, 0, -1)]
    return [json.loads(item) for item in events._local_buffer]


def get(client, url):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return response, len(queries)


def test_second_view_is_served_from_the_cache_without_queries(client, cached, hoodie):
    url = hoodie.product.get_absolute_url()
    first, _ = get(client, url)
    assert first[pagecache.CACHE_HEADER] == "MISS"
    second, queries = get(Client(), url)
    assert second[pagecache.CACHE_HEADER] == "HIT" and queries == 0
    assert second.content.decode().count("Chaz Kangeroo Hoodie") == first.content.decode().count("Chaz Kangeroo Hoodie")


def test_a_stock_change_shows_at_once_on_cached_product_and_category_pages(client, cached, hoodie):
    product_url = hoodie.product.get_absolute_url()
    men, hoodies = "/c/men/", "/c/men/hoodies/"
    for url in (product_url, men, hoodies):
        get(client, url)
        assert get(client, url)[0][pagecache.CACHE_HEADER] == "HIT"
    assert "Only 4 left" in get(client, product_url)[0].content.decode()

    services.set_stock(variant=hoodie, stock=2)
    page = get(client, product_url)[0]
    assert page[pagecache.CACHE_HEADER] == "MISS" and "Only 2 left" in page.content.decode()

    services.set_stock(variant=hoodie, stock=0)  # the category pages, and the parent's, say so too
    for url in (men, hoodies):
        page = get(client, url)[0]
        assert page[pagecache.CACHE_HEADER] == "MISS" and "Sold out" in page.content.decode()
    assert "Sold out" in get(client, product_url)[0].content.decode()


def test_a_price_change_shows_at_once(client, cached, hoodie):
    url = "/c/men/hoodies/"
    get(client, url)
    assert "$52.00" in get(client, url)[0].content.decode()
    hoodie.sale_price = Decimal("39.00")
    services.save_variant(variant=hoodie, changed_fields=["sale_price"])
    page = get(client, url)[0].content.decode()
    assert "$39.00" in page and "<s>$52.00</s>" in page


def test_an_order_updates_the_cached_stock(client, cached, hoodie):
    url = hoodie.product.get_absolute_url()
    get(client, url)
    shopper = Client()
    shopper.post(reverse("orders:cart_add"), {"product": hoodie.product_id, "size": "M", "colour": "Gray",
                                              "quantity": 3})
    shopper.post(reverse("orders:checkout"), {
        "email": "c@example.com", "shipping_name": "C", "shipping_line1": "1 Main Street", "shipping_city": "X",
        "shipping_postcode": "12345", "shipping_country": "US", "shipping_method": "standard"})
    review = shopper.get(reverse("orders:checkout_review"))
    key = review.context["form"]["idempotency_key"].value()
    checkout_and_approve(shopper, key)
    assert "Only 1 left" in get(client, url)[0].content.decode()


def test_shoppers_with_a_session_get_their_own_page_and_cached_pages_carry_a_fresh_csrf_token(cached, hoodie):
    url = hoodie.product.get_absolute_url()
    Client().get(url)
    guest = Client(enforce_csrf_checks=True)
    page = guest.get(url)
    assert page[pagecache.CACHE_HEADER] == "HIT"
    token = page.content.decode().split('name="csrfmiddlewaretoken" value="')[1].split('"')[0]
    assert token != pagecache.CSRF_PLACEHOLDER and "csrftoken" in page.cookies
    added = guest.post(reverse("orders:cart_add"), {"product": hoodie.product_id, "size": "M", "colour": "Gray",
                                                    "quantity": 1, "csrfmiddlewaretoken": token})
    assert added.status_code == 302  # the token from the cached page works
    with_cart = guest.get(url)
    assert pagecache.CACHE_HEADER not in with_cart  # a session: rendered for this shopper
    assert 'data-cart-count' in with_cart.content.decode()


def test_made_up_query_parameters_are_not_cached(client, cached, hoodie):
    url = hoodie.product.get_absolute_url()
    for _ in range(2):
        assert pagecache.CACHE_HEADER not in get(client, url + "?utm=1")[0]
    get(client, "/c/men/?sort=price")
    assert get(client, "/c/men/?sort=price")[0][pagecache.CACHE_HEADER] == "HIT"


def test_pages_are_not_cached_when_turned_off(client, settings, hoodie):
    settings.SHOP_PAGE_CACHE_SECONDS = 0
    url = hoodie.product.get_absolute_url()
    get(client, url)
    response, queries = get(client, url)
    assert pagecache.CACHE_HEADER not in response and queries > 0


def test_a_hit_is_answered_without_the_view_with_the_same_headers_and_its_page_view(client, cached, hoodie):
    """A hit is answered without the view, inside the middleware stack: the shopper gets the same
    security headers, CSP, request id, CSRF and visitor cookies as for a rendered page, and the
    page view is recorded with the product."""
    events.clear_buffer()
    url = hoodie.product.get_absolute_url()
    miss = Client().get(url)
    with CaptureQueriesContext(connection) as queries:
        hit = Client().get(url)
    assert miss[pagecache.CACHE_HEADER] == "MISS" and hit[pagecache.CACHE_HEADER] == "HIT" and not queries
    per_response = {"Set-Cookie", "X-Request-ID", pagecache.CACHE_HEADER, "Content-Length"}
    assert set(hit.headers) - per_response == set(miss.headers) - per_response
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy", "Vary"):
        assert hit[header] == miss[header], header
    assert not hit.templates and miss.templates  # no view ran for the hit
    assert set(hit.cookies) == set(miss.cookies) == {"csrftoken", settings.ANALYTICS_VISITOR_COOKIE}

    recorded = [event for event in buffered_events() if event["event_type"] == "product_viewed"]
    assert [event["data"] for event in recorded] == [{"product_id": hoodie.product_id,
                                                      "slug": hoodie.product.slug}] * 2
    assert recorded[1]["session_id"] == hit.cookies[settings.ANALYTICS_VISITOR_COOKIE].value


def test_a_returning_guest_keeps_their_visitor_id_and_csrf_cookie_on_a_hit(client, cached, hoodie):
    url = "/c/men/hoodies/"
    client.get(url)
    first = client.get(url)  # the test client keeps the cookies the first page set
    assert first[pagecache.CACHE_HEADER] == "HIT" and not first.cookies  # nothing new to set
    visitor = client.cookies[settings.ANALYTICS_VISITOR_COOKIE].value
    assert [event["session_id"] for event in buffered_events()][-2:] == [visitor, visitor]


def test_other_pages_and_signed_in_shoppers_pass_through(client, cached, hoodie):
    from accounts.tests.factories import UserFactory

    url = hoodie.product.get_absolute_url()
    Client().get(url)
    client.force_login(UserFactory())
    assert pagecache.CACHE_HEADER not in client.get(url)  # a session: rendered for this shopper
    assert pagecache.CACHE_HEADER not in Client().get("/search/?q=hoodie")  # not a cached page
    assert Client().get("/c/no-such-category/").status_code == 404


def test_a_signed_in_shopper_s_card_grid_is_a_cached_fragment_that_follows_stock(client, cached, hoodie):
    """With a session the page is rendered for the shopper, but the card grid, the same for
    everyone, is fetched from the cache while the category's versions stand; a stock change shows
    on the next view."""
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory())
    url = "/c/men/hoodies/"
    assert "In stock" in client.get(url).content.decode()
    again = client.get(url)
    page = again.content.decode()
    assert pagecache.CACHE_HEADER not in again  # rendered for this shopper...
    assert "catalog/_filters.html" in [template.name for template in again.templates]
    assert "catalog/_product_cards.html" not in [template.name for template in again.templates]  # ...but not the grid
    assert "Chaz Kangeroo Hoodie" in page and "In stock" in page
    services.set_stock(variant=hoodie, stock=0)
    page = client.get(url).content.decode()
    assert 'class="stock out"' in page and "Sold out" in page


@pytest.mark.parametrize("sort", ["price", "rating"])
def test_a_filtered_listing_walks_in_the_order_the_orm_sorts_it(client, shelf, sort):
    """Every page of a filtered category, followed by its cursors, shows the products in the order
    sort_products gives them, each once (catalog.pagination reads pages through the ORM)."""
    from catalog.models import Product
    from catalog.selectors import product_cards, sort_products

    url = f"{shelf.get_absolute_url()}?sort={sort}&colour=Red"
    walked, _ = walk(client, url)
    red = Product.objects.visible().filter(variants__colour="Red")
    assert walked == [p.pk for p in sort_products(product_cards(red), sort)]


def test_a_category_page_reads_the_cache_once_and_an_unknown_path_stores_nothing(client, shelf, settings):
    """The category tree's versions, the facets, the count and the page's versions arrive in one
    cache round trip; a made-up category path gets a 404 and leaves no version behind."""
    from unittest import mock

    from django.core.cache import cache

    settings.SHOP_FACETS_CACHE_SECONDS = 600
    client.get(shelf.get_absolute_url())  # versions and facts made
    with mock.patch.object(versions, "get_many", wraps=versions.get_many) as reads:
        response = client.get(shelf.get_absolute_url() + "?sort=price")
    assert response.status_code == 200 and "23 products" in response.content.decode()
    assert reads.call_count == 1
    assert client.get("/c/no-such-shelf/").status_code == 404
    assert cache.get(versions.category_version_key("no-such-shelf")) is None


@pytest.mark.parametrize("sort", list(SORT_KEYS))
def test_each_card_shows_what_the_products_own_models_say(client, shelf, settings, sort):
    """On every page, forwards and backwards, a card's prices, stock, live variants and first
    picture are the ones its product's models give (Variant.unit_price, the first image by
    position): photos ready and pending, a sale price, an inactive variant and a product whose
    later photo was added first. The API's listing (product_cards) says the same."""
    from catalog.models import Product
    from catalog.selectors import product_cards
    from catalog.tests.factories import ProductImageFactory
    from catalog.tests.test_pictures import fake_ready_image

    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    products = list(Product.objects.order_by("pk"))
    for product in products[::3]:
        fake_ready_image(product)
    for product in products[1::5]:
        ProductImageFactory(product=product)  # pending: no renditions yet
    ProductImageFactory(product=products[0], position=5)  # after the ready photo at position 0
    VariantFactory(product=products[2], price=Decimal("99"), sale_price=Decimal("3.50"), stock=4)
    VariantFactory(product=products[4], price=Decimal("1"), is_active=False)

    def expected(product):
        active = [v for v in product.variants.all() if v.is_active]
        image = product.images.order_by("position", "pk").first()
        return (product.pk, product.name, product.get_absolute_url(), min(v.unit_price for v in active),
                min(v.price for v in active), sum(v.stock for v in active), ",".join(str(v.pk) for v in active),
                image and (image.pk, image.jpeg_srcset))

    def shown(card):
        return (card.pk, card.name, card.url, card.price_from, card.regular_price_from, card.stock_total,
                card.variant_ids, card.image and (card.image.pk, card.image.jpeg_srcset))

    api = {p.pk: p for p in product_cards(Product.objects.all())}
    url = f"{shelf.get_absolute_url()}?sort={sort}"
    response, seen = client.get(url + "&last=1"), 0
    while True:
        page = response.context["page"]
        assert [shown(c) for c in page.items] == [expected(Product.objects.get(pk=c.pk)) for c in page.items]
        assert [(c.price_from, c.stock_total) for c in page.items] == [
            (api[c.pk].price_from, api[c.pk].stock_total) for c in page.items]
        seen += len(page.items)
        if page.previous_cursor is None:
            break
        response = client.get(f"{url}&before={page.previous_cursor}")
    assert seen == 23
    every, _ = walk(client, url, take=lambda card: card)
    assert any(c.image and c.image.jpeg_srcset for c in every)  # ready photos, with renditions
    assert any(c.image and not c.image.is_ready for c in every) and any(c.price_from == Decimal("3.50") for c in every)

