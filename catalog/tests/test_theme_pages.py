"""The storefront's remaining theme parts (issue 23), as a shopper meets them: numbered pages
beside Previous and Next on a listing (as cheap as the keyset pages), search results in the
category page's layout with its filter drawer and chips, and the product page's sizes and colours
as buttons, sold-out ones struck out."""
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def tees(settings):
    """60 tees (3 pages of 24), named Tee 00..59, in Men > Tees."""
    settings.SHOP_PRODUCTS_PER_PAGE = 24
    men = CategoryFactory(name="Men", path="men", slug="men", depth=1)
    tees = CategoryFactory(name="Tees", path="men/tees", slug="tees", depth=2, parent=men)
    for n in range(60):
        VariantFactory(product=ProductFactory(name=f"Tee {n:02d}", categories=[tees]), size="M", colour="Blue")
    return tees


def names(page: str) -> list[str]:
    return re.findall(r"<h3>(Tee \d+)</h3>", page)


def pages_nav(page: str) -> str:
    return re.search(r'<nav class="pagination" aria-label="Pages">(.*?)</nav>', page, re.S).group(1)


def numbered_links(page: str) -> dict[str, str]:
    """Page number -> href of the numbered links; the current page as "current"."""
    nav = pages_nav(page)
    links = {re.sub(r"<[^>]+>|Page ", "", text).strip(): href.replace("&amp;", "&")
             for href, text in re.findall(r'<li><a href="([^"]*)">(.*?)</a></li>', nav)}
    current = re.search(r'aria-current="page">(.*?)</span></span>|aria-current="page"><span[^>]*>Page </span>(\d+)', nav)
    links["current"] = current.group(2) or current.group(1)
    return links


def test_numbered_pages_lead_where_they_say_and_previous_next_keep_counting(client, tees):
    url = tees.get_absolute_url()
    first = client.get(url).content.decode()
    assert names(first)[:2] == ["Tee 00", "Tee 01"] and len(names(first)) == 24
    links = numbered_links(first)
    assert links["current"] == "1" and set(links) == {"2", "3", "current"}
    second = client.get(url + links["2"]).content.decode()
    assert names(second)[0] == "Tee 24" and numbered_links(second)["current"] == "2"
    third = client.get(url + numbered_links(second)["3"]).content.decode()  # the last: read backwards
    assert names(third) == [f"Tee {n}" for n in range(48, 60)] and numbered_links(third)["current"] == "3"
    assert "Next" not in pages_nav(third)

    # Previous and Next are keyset links that carry the page number along.
    next_href = re.search(r'rel="next" href="([^"]*)"', pages_nav(first)).group(1).replace("&amp;", "&")
    assert "after=" in next_href and "page=2" in next_href
    via_next = client.get(url + next_href).content.decode()
    assert names(via_next) == names(second) and numbered_links(via_next)["current"] == "2"
    prev_href = re.search(r'rel="prev" href="([^"]*)"', pages_nav(via_next)).group(1).replace("&amp;", "&")
    back = client.get(url + prev_href).content.decode()
    assert names(back) == names(first) and numbered_links(back)["current"] == "1"


@pytest.mark.parametrize("query", ["?page=0", "?page=x", "?page=99", "?page=2&sort=-price", "?page=" + "9" * 40])
def test_a_page_number_out_of_range_or_made_up_gives_a_page_not_an_error(client, tees, query):
    response = client.get(tees.get_absolute_url() + query)
    assert response.status_code == 200 and names(response.content.decode())


def test_a_numbered_page_costs_the_same_queries_as_the_first(client, tees, settings):
    settings.SHOP_PAGE_CACHE_SECONDS = settings.SHOP_FACETS_CACHE_SECONDS = 0
    url = tees.get_absolute_url()
    client.get(url)  # the shared cache's branding and tree, as every later page finds them
    counts = []
    for query in ("", "?page=2", "?page=3", "?last=1"):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url + query).status_code == 200
        counts.append(len(queries))
    assert len(set(counts)) == 1, counts


def test_search_results_use_the_listing_layout_with_its_filter_drawer_and_chips(client, tees):
    page = client.get("/search/?q=tee&colour=Blue").content.decode()
    assert 'id="filters-toggle"' in page and 'class="filters-panel"' in page and 'id="listing-results"' in page
    assert 'name="q" value="tee"' in page  # the filters keep the search
    chip = re.search(r'<ul class="chips" aria-label="Active filters">.*?href="([^"]*)"', page, re.S).group(1)
    assert "q=tee" in chip and "colour" not in chip  # removing the chip keeps the search
    assert len(names(page)) == 24 and numbered_links(page)["current"] == "1"
    assert 'hx-get=""' in page  # filters apply at once with htmx, as on a category page


def test_sizes_and_colours_are_buttons_and_sold_out_sizes_are_struck_out(client):
    product = ProductFactory(name="Chaz Kangeroo Hoodie")
    for size in ("XS", "S", "M"):
        for colour in ("Gray", "Orange"):
            VariantFactory(product=product, size=size, colour=colour, stock=0 if size == "XS" or colour == "Orange" else 3)
    page = client.get(product.get_absolute_url()).content.decode()
    sizes = re.search(r'<fieldset class="options sizes"><legend>Size</legend>(.*?)</fieldset>', page, re.S).group(1)
    assert re.findall(r'value="([^"]+)"', sizes) == ["XS", "S", "M"]
    assert re.search(r'<label class="option unavailable"><input type="radio" name="size" value="XS"', sizes)
    assert '<span>XS</span><span class="visually-hidden" data-sold-out> (sold out)</span>' in sizes  # said, not only shown
    assert sizes.count("unavailable") == 1 and sizes.count("data-sold-out hidden") == 2
    colours = re.search(r'<fieldset class="options colours">(.*?)</fieldset>', page, re.S).group(1)
    assert 'class="swatch" style="--swatch: #8a8f96"' in colours  # Gray's swatch beside its name
    assert re.search(r'class="option unavailable"><input type="radio" name="colour" value="Orange"', colours)
    assert page.count('data-variant-id="') >= 6  # live stock still finds every variant's badge
