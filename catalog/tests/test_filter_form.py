"""The listing's filter form (templates/catalog/_filters.html): the sorts and facets it offers,
what it shows back of the shopper's choices, and hostile values escaped."""
import pytest
from django.http import QueryDict
from django.template import engines
from django.urls import reverse

from catalog.filters import ProductFilter
from catalog.models import Product
from catalog.selectors import RELEVANCE, SORTS, Facets
from catalog.tests.factories import ProductFactory, VariantFactory



def render(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


def form_html(product_filter, query="") -> str:
    return render('{% include "catalog/_filters.html" %}', filter=product_filter, query=query)


def product_filter(data: str, **kwargs) -> ProductFilter:
    return ProductFilter(QueryDict(data), queryset=Product.objects.visible(), **kwargs)


def test_hostile_facet_values_and_search_words_are_escaped():
    html = form_html(product_filter('size=<b>&colour="x"', facets=Facets(sizes=["<b>", "M"], colours=['"x"'])),
                     'a&b<c>"d')
    assert '<input type="hidden" name="q" value="a&amp;b&lt;c&gt;&quot;d">' in html
    assert 'value="&lt;b&gt;" id="id_size_0" checked> &lt;b&gt;</label>' in html
    assert 'value="&quot;x&quot;" id="id_colour_0" checked> &quot;x&quot;</label>' in html
    assert "<b>" not in html and '<a href="?q=a%26b%3Cc%3E%22d">Clear filters</a>' in html


def test_every_sort_is_offered_and_a_search_adds_best_match():
    html = form_html(product_filter(""))
    for key, (label, _) in SORTS.items():
        assert f'<option value="{key}"' in html and f">{label}</option>" in html
    assert "Best match" not in html and "---" not in html  # no empty choice
    assert '<option value="relevance" selected>Best match</option>' in form_html(
        product_filter("", default_sort=RELEVANCE), "tee")


# --- What the form shows back ------------------------------------------------------------------


def test_chosen_sizes_colours_and_in_stock_stay_checked():
    html = form_html(product_filter("size=M&colour=Gray&colour=Blue&in_stock=on&sort=price",
                                    facets=Facets(sizes=["S", "M"], colours=["Blue", "Gray"])))
    assert '<input type="checkbox" name="size" value="S" id="id_size_0">' in html
    assert '<input type="checkbox" name="size" value="M" id="id_size_1" checked>' in html
    assert 'value="Blue" id="id_colour_0" checked>' in html and 'value="Gray" id="id_colour_1" checked>' in html
    assert 'id="id_in_stock" checked>' in html and '<option value="price" selected>' in html
    assert "not valid" not in html and '<a href="?">Clear filters</a>' in html


def test_an_invalid_price_is_shown_as_typed_and_marked_invalid():
    html = form_html(product_filter("min_price=abc&max_price=50"))
    assert ('<input type="number" name="min_price" value="abc" min="0" step="any" id="id_min_price" '
            'aria-invalid="true">') in html
    assert '<input type="number" name="max_price" value="50" min="0" step="any" id="id_max_price">' in html
    assert '<p class="error">Some filters were not valid and were ignored.</p>' in html
    assert "<fieldset><legend>Size" not in html  # no facets offered: no empty fieldsets


def test_no_filters_no_clear_link():
    assert "Clear filters" not in form_html(product_filter("sort=price"), "tee")


@pytest.mark.django_db
def test_a_search_keeps_its_words_in_the_form_and_in_the_clear_filters_link(client):
    VariantFactory(product=ProductFactory(name="Hoodie"), size="M", stock=2)
    page = client.get(reverse("catalog:search"), {"q": "hoodie & <co>", "in_stock": "on"}).content.decode()
    assert '<input type="hidden" name="q" value="hoodie &amp; &lt;co&gt;">' in page
    assert '<a href="?q=hoodie%20%26%20%3Cco%3E">Clear filters</a>' in page
    assert '<option value="relevance" selected>Best match</option>' in page
