"""The category tree in the shared cache (catalog/tree.py): pages read the tree once per catalogue change, and
an edit to a category shows on the very next page, in the header, breadcrumbs and listings."""
import threading

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext

from catalog import listing_cache
from catalog.models import Category
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from catalog.tree import category_tree


@pytest.fixture
def men_tops(db):
    men = CategoryFactory(name="Men", slug="men")
    tops = CategoryFactory(name="Tops", slug="tops", parent=men)
    product = ProductFactory(name="Chaz Hoodie")
    product.categories.add(tops)
    VariantFactory(product=product)
    return men, tops


def nav(page: str) -> str:
    return page.split('class="container category-nav"')[1].split("</nav>")[0]


def crumbs(page: str) -> str:
    return page.split('class="breadcrumbs"')[1].split("</nav>")[0]


def test_the_tree_is_read_once_until_the_catalogue_changes(men_tops):
    with CaptureQueriesContext(connection) as queries:
        first, second = category_tree(), category_tree()
    assert len(queries) == 1 and first == second  # the second from the shared cache
    CategoryFactory(name="Women", slug="women")
    with CaptureQueriesContext(connection) as queries:
        assert [c.name for c in category_tree().top_level] == ["Men", "Women"]
    assert len(queries) == 1


def test_a_renamed_category_shows_at_once_in_nav_breadcrumbs_and_heading(client, men_tops):
    men, tops = men_tops
    page = client.get(tops.get_absolute_url()).content.decode()
    assert ">Men</a>" in nav(page) and ">Tops<" in crumbs(page)
    men.name, tops.name = "Gents", "Shirts & Tops"
    men.save()
    tops.save()
    page = client.get(tops.get_absolute_url()).content.decode()
    assert ">Gents</a>" in nav(page) and ">Men</a>" not in nav(page)
    assert ">Gents</a>" in crumbs(page) and "Shirts &amp; Tops" in crumbs(page) and "<h1>Shirts &amp; Tops</h1>" in page
    product_page = client.get("/p/" + tops.products.get().slug + "/").content.decode()
    assert ">Gents</a>" in crumbs(product_page) and "Shirts &amp; Tops" in crumbs(product_page)


def test_a_hidden_category_leaves_the_nav_and_its_page_at_once(client, men_tops):
    men, tops = men_tops
    assert ">Tops</a>" in client.get(men.get_absolute_url()).content.decode()  # a subcategory link
    tops.is_visible = False
    tops.save()
    assert client.get(tops.get_absolute_url()).status_code == 404
    assert ">Tops</a>" not in client.get(men.get_absolute_url()).content.decode()
    men.is_visible = False
    men.save()
    assert ">Men</a>" not in nav(client.get("/").content.decode())


def test_an_edit_made_by_another_process_shows_on_the_next_page(client, men_tops):
    men, _ = men_tops
    assert ">Men</a>" in nav(client.get("/").content.decode())
    # Another process: its own write (no signal here) and its version bump, through the shared cache.
    Category.objects.filter(pk=men.pk).update(name="Gents")
    listing_cache.bump()
    assert ">Gents</a>" in nav(client.get("/").content.decode())


@pytest.mark.django_db(transaction=True)
def test_a_tree_read_between_the_save_and_the_commit_is_not_kept():
    """A request that reads the tree while an edit is saved but not committed sees the old rows
    under the new listing version; the page-cache version bumped after the commit retires it."""
    men = CategoryFactory(name="Men", slug="men")
    seen = []

    def other_request():
        seen.append([c.name for c in category_tree().top_level])
        connections.close_all()

    with transaction.atomic():
        men.name = "Gents"
        men.save()  # bumps the listing version now; the page-cache version after the commit
        reader = threading.Thread(target=other_request)
        reader.start()
        reader.join()
    assert seen == [["Men"]]  # the old row: the edit is not committed yet
    assert [c.name for c in category_tree().top_level] == ["Gents"]


def test_product_breadcrumbs_lead_to_its_deepest_category(client, men_tops):
    men, tops = men_tops
    product = tops.products.get()
    product.categories.add(men, CategoryFactory(name="Sale", slug="sale"))
    page = client.get(product.get_absolute_url()).content.decode()
    assert crumbs(page).count("</a>") == 3 and ">Men</a> / <a" in crumbs(page) and ">Tops</a>" in crumbs(page)


def test_a_product_without_an_active_variant_has_no_page(client, men_tops):
    product = men_tops[1].products.get()
    product.variants.update(is_active=False)
    assert client.get(product.get_absolute_url()).status_code == 404
