"""The listing's filter form (`{% filter_form %}`): what it shows back, and byte-identity with the
template the tag replaced, over thousands of filters (facets, choices valid and not, search words
with HTML and URL characters, relevance sort)."""
import random

import pytest
from django.http import QueryDict
from django.template import engines
from django.urls import reverse
from django.utils.safestring import mark_safe

from catalog.filters import ProductFilter
from catalog.models import Product
from catalog.selectors import DEFAULT_SORT, RELEVANCE, SORTS, Facets
from catalog.tests.factories import ProductFactory, VariantFactory

# The form as a template wrote it before the tag (templates/catalog/_filters.html, included with
# filter and query, less its comment): the reference the tag must match byte for byte.
TEMPLATE_BEFORE = """<form class="filters" method="get" action="">
  {% if query %}<input type="hidden" name="q" value="{{ query }}">{% endif %}
  {% with fields=filter.form.fields shown=filter.shown %}
  {% if shown.invalid %}<p class="error">Some filters were not valid and were ignored.</p>{% endif %}
  <div class="field"><label for="id_sort">Sort by</label> <select name="sort" id="id_sort">{% for value, label in fields.sort.choices %}
    <option value="{{ value }}"{% if value == shown.sort %} selected{% endif %}>{{ label }}</option>{% endfor %}
  </select></div>
  {% if fields.size.choices %}<fieldset><legend>Size</legend><div id="id_size">{% for value, label in fields.size.choices %}
    <div><label for="id_size_{{ forloop.counter0 }}"><input type="checkbox" name="size" value="{{ value }}" id="id_size_{{ forloop.counter0 }}"{% if value in shown.size %} checked{% endif %}> {{ label }}</label></div>{% endfor %}
  </div></fieldset>{% endif %}
  {% if fields.colour.choices %}<fieldset><legend>Colour</legend><div id="id_colour">{% for value, label in fields.colour.choices %}
    <div><label for="id_colour_{{ forloop.counter0 }}"><input type="checkbox" name="colour" value="{{ value }}" id="id_colour_{{ forloop.counter0 }}"{% if value in shown.colour %} checked{% endif %}> {{ label }}</label></div>{% endfor %}
  </div></fieldset>{% endif %}
  <fieldset><legend>Price</legend>
    <label>From <input type="number" name="min_price"{% if shown.min_price %} value="{{ shown.min_price }}"{% endif %} min="0" step="any" id="id_min_price"{% if "min_price" in shown.invalid %} aria-invalid="true"{% endif %}></label>
    <label>to <input type="number" name="max_price"{% if shown.max_price %} value="{{ shown.max_price }}"{% endif %} min="0" step="any" id="id_max_price"{% if "max_price" in shown.invalid %} aria-invalid="true"{% endif %}></label>
  </fieldset>
  <div class="field"><input type="checkbox" name="in_stock" id="id_in_stock"{% if shown.in_stock %} checked{% endif %}> <label for="id_in_stock">In stock only</label></div>
  {% endwith %}
  <button type="submit">Apply</button>
  {% if filter.active_filter_count %}<a href="?{% if query %}q={{ query|urlencode }}{% endif %}">Clear filters</a>{% endif %}
</form>
"""
NASTY = ["&", "<", ">", '"', "'", "<b>", "a&b", "x y", "é", "%", "+", "#", "?", "/", "="]


def render(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


def form_html(product_filter, query="") -> str:
    return render("{% load shop %}{% filter_form filter query %}", filter=product_filter, query=query)


def product_filter(data: str, **kwargs) -> ProductFilter:
    return ProductFilter(QueryDict(data), queryset=Product.objects.visible(), **kwargs)


def random_word(rng: random.Random) -> str:
    return "".join(rng.choice([*NASTY, "M", "XL", "Gray", "Blue", "42", " "]) for _ in range(rng.randint(1, 4)))


def random_filter(rng: random.Random) -> tuple[ProductFilter, str]:
    """A filter as a category or search page makes it, with random facets and random choices, valid
    or not, and the search words (or "" for a category)."""
    sizes = rng.sample(["XS", "S", "M", "L", "XL", "42", "43", *NASTY], rng.randint(0, 6))
    colours = rng.sample(["Black", "Blue", "Gray", "Red", "Light <Blue>", *NASTY], rng.randint(0, 5))
    facets = rng.choice([None, Facets(sizes=sizes, colours=colours)])
    data = QueryDict(mutable=True)
    for name, pool in (("size", sizes or ["M"]), ("colour", colours or ["Gray"])):
        data.setlist(name, [rng.choice([*pool, random_word(rng)]) for _ in range(rng.randint(0, 3))])
    for name in ("min_price", "max_price"):
        if rng.random() < 0.6:
            data[name] = rng.choice(["0", "10", "49.99", "-3", "abc", "1e999", "", " 5 ", random_word(rng)])
    if rng.random() < 0.4:
        data["in_stock"] = rng.choice(["on", "true", "false", "", "0", "x"])
    if rng.random() < 0.6:
        data["sort"] = rng.choice([*SORTS, RELEVANCE, "", "nope", "<x>"])
    query = rng.choice(["", "", "hoodie", random_word(rng), "a&b<c>\"d'e", mark_safe("<i>safe</i>&amp;")])
    default_sort = RELEVANCE if query and rng.random() < 0.8 else DEFAULT_SORT
    return ProductFilter(data, queryset=Product.objects.visible(), facets=facets, default_sort=default_sort), query


def test_the_tag_writes_what_the_template_wrote_byte_for_byte():
    rng = random.Random(20250611)
    for _ in range(3000):
        filterset, query = random_filter(rng)
        assert form_html(filterset, query) == render(TEMPLATE_BEFORE, filter=filterset, query=query)


def test_safe_and_unsafe_labels_are_escaped_as_a_template_would():
    class Field:
        def __init__(self, choices):
            self.choices = choices

    class Form:
        fields = {"sort": Field([("a&b", mark_safe("<b>Bold</b>")), ("x", "<i>")]),
                  "size": Field([(mark_safe("&amp;"), "&"), ("<", mark_safe("&lt;"))]),
                  "colour": Field([])}

    class Filter:
        form, active_filter_count = Form(), 1
        shown = {"sort": "x", "size": {"<"}, "colour": set(), "min_price": mark_safe("<1>"),
                 "max_price": "<2>", "in_stock": True, "invalid": {"max_price"}}

    html = form_html(Filter(), "q&<")
    assert html == render(TEMPLATE_BEFORE, filter=Filter(), query="q&<")
    assert '<option value="a&amp;b"><b>Bold</b></option>' in html and 'value="&lt;1&gt;"' not in html


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
