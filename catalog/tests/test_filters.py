"""catalog.filters.ProductFilter on its own: validation, the choices each listing offers, and that
one request's choices never reach another's (the form's unchanged fields are shared)."""
from decimal import Decimal

import pytest
from django.http import QueryDict
from django.urls import reverse

from catalog.filters import ProductFilter
from catalog.models import Product
from catalog.selectors import RELEVANCE, SORTS, Facets, matching_variant_exists, shown_price_in, sort_products
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

SORT_CHOICES = [(key, label) for key, (label, _) in SORTS.items()]


def product_filter(query: str = "", **kwargs) -> ProductFilter:
    return ProductFilter(QueryDict(query), queryset=Product.objects.visible(), **kwargs)


def choices(filterset: ProductFilter, name: str) -> list:
    return list(filterset.form.fields[name].choices)


def test_sort_choices_are_the_shops_sorts():
    assert choices(product_filter(), "sort") == SORT_CHOICES


def test_valid_filters_are_cleaned_shown_and_counted():
    filterset = product_filter("size=M&size=S&colour=Gray&min_price=10&max_price=50.5&in_stock=on&sort=price",
                               facets=Facets(sizes=["S", "M", "L"], colours=["Gray"]))
    assert filterset.is_valid()
    assert filterset.form.cleaned_data == {"size": ["M", "S"], "colour": ["Gray"], "min_price": Decimal("10"),
                                           "max_price": Decimal("50.5"), "in_stock": True, "sort": "price"}
    assert filterset.shown == {"sort": "price", "size": {"M", "S"}, "colour": {"Gray"}, "min_price": "10",
                               "max_price": "50.5", "in_stock": True, "invalid": set()}
    assert filterset.active_filter_count == 5
    expected = sort_products(Product.objects.visible().filter(matching_variant_exists(
        shown_price_in(Decimal("10"), Decimal("50.5")), size__in=["M", "S"], colour__in=["Gray"], stock__gt=0)),
        "price")
    assert str(filterset.qs.query) == str(expected.query)


def test_no_filters_shows_the_default_sort_and_counts_nothing():
    filterset = product_filter(facets=Facets(sizes=["M"], colours=["Gray"]))
    assert filterset.shown == {"sort": "name", "size": set(), "colour": set(), "min_price": "",
                               "max_price": "", "in_stock": False, "invalid": set()}
    assert filterset.active_filter_count == 0
    assert str(filterset.qs.query) == str(sort_products(Product.objects.visible(), "name").query)


@pytest.mark.parametrize("query, invalid", [
    ("min_price=abc", {"min_price"}),
    ("max_price=-1", {"max_price"}),
    ("size=XXL", {"size"}),
    ("colour=Nope&size=M", {"colour"}),
    ("sort=bogus", {"sort"}),
    ("sort=relevance", {"sort"}),  # only search pages sort by relevance
    ("size=M&sort=price&min_price=abc", {"min_price"}),
])
def test_invalid_values_are_ignored_and_reported(query, invalid):
    filterset = product_filter(query, facets=Facets(sizes=["S", "M"], colours=["Gray"]))
    assert not filterset.is_valid()
    assert filterset.shown["invalid"] == invalid == set(filterset.errors)
    cleaned = filterset.form.cleaned_data
    assert not invalid & set(cleaned)  # a refused value is not applied
    assert filterset.shown["sort"] == (cleaned.get("sort") or "name")
    if "min_price" in invalid:
        assert filterset.shown["min_price"] == "abc"  # shown back as typed


def test_each_filterset_offers_and_accepts_its_own_facets():
    """Two requests with different facets, interleaved: each offers and accepts only its own
    sizes and colours, and neither changes what a listing without facets offers."""
    tops = product_filter("size=M&colour=Gray", facets=Facets(sizes=["S", "M"], colours=["Gray"]))
    shoes = product_filter("size=M&colour=Gray", facets=Facets(sizes=["42", "43"], colours=["Black"]))
    assert (choices(tops, "size"), choices(tops, "colour")) == ([("S", "S"), ("M", "M")], [("Gray", "Gray")])
    assert (choices(shoes, "size"), choices(shoes, "colour")) == ([("42", "42"), ("43", "43")], [("Black", "Black")])
    assert tops.is_valid() and tops.shown["size"] == {"M"}
    assert not shoes.is_valid() and shoes.shown["invalid"] == {"size", "colour"}
    bare = product_filter("size=M")
    assert choices(bare, "size") == choices(bare, "colour") == []
    assert bare.shown["invalid"] == {"size"}
    for name, filter_ in ProductFilter.base_filters.items():  # the class's own fields are untouched
        assert list(getattr(filter_.field, "choices", [])) == (SORT_CHOICES if name == "sort" else [])


def test_search_sorts_by_relevance_and_offers_best_match():
    search = product_filter(default_sort=RELEVANCE)
    assert choices(search, "sort") == [(RELEVANCE, "Best match"), *SORT_CHOICES]
    assert search.shown["sort"] == RELEVANCE and search.active_filter_count == 0
    assert str(search.qs.query) == str(Product.objects.visible().query)  # the search's own order
    assert product_filter("sort=relevance", default_sort=RELEVANCE).is_valid()
    assert choices(product_filter(), "sort") == SORT_CHOICES  # a category page after it


def test_filters_are_per_filterset_copies():
    """django-filter's FilterSet.filters: each filterset's own, bound to it."""
    one, two = product_filter(), product_filter()
    assert one.filters.keys() == ProductFilter.base_filters.keys()
    assert all(f.parent is one and f.model is Product for f in one.filters.values())
    assert not set(map(id, one.filters.values())) & set(map(id, two.filters.values()))


def test_counted_params_are_canonical():
    assert ProductFilter.counted_params(QueryDict("sort=price&size=S&colour=Blue&size=M&after=x")) == \
        "size=M&size=S&colour=Blue"


@pytest.mark.django_db
def test_listing_pages_show_their_own_choices(client):
    tees = CategoryFactory(name="Tees", slug="tees", path="tees", depth=1)
    shoes = CategoryFactory(name="Shoes", slug="shoes", path="shoes", depth=1)
    for category, size, colour in [(tees, "M", "Gray"), (shoes, "42", "Black")]:
        product = ProductFactory(name=f"Hoodie {size}")
        product.categories.add(category)
        VariantFactory(product=product, size=size, colour=colour)
    tee_page = client.get(tees.get_absolute_url() + "?size=42&sort=price").content.decode()
    assert 'value="M"' in tee_page and 'value="42"' not in tee_page and 'value="Black"' not in tee_page
    assert "Some filters were not valid and were ignored." in tee_page
    assert '<option value="price" selected>' in tee_page and "Best match" not in tee_page
    shoe_page = client.get(shoes.get_absolute_url() + "?size=42").content.decode()
    assert 'value="42" id="id_size_0" checked>' in shoe_page and 'value="M"' not in shoe_page
    assert "not valid" not in shoe_page and "Clear filters" in shoe_page
    search = client.get(reverse("catalog:search") + "?q=hoodie").content.decode()
    assert '<option value="relevance" selected>Best match</option>' in search
