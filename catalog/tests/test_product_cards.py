"""Product cards on listing pages (`{% product_cards %}`): what a card shows, and byte-identity
with the template the tag replaced, over thousands of cards (pictures in every state, sales,
ratings, sold out, HTML in names, other locales)."""
import random
from decimal import Decimal

import pytest
from django.template import engines
from django.utils import translation
from django.utils.safestring import mark_safe

from catalog.models import Product, ProductImage, Rendition
from catalog.selectors import CARD_FIELDS, ProductCard, load_cards
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, VariantFactory
from catalog.tests.test_pictures import fake_ready_image

pytestmark = pytest.mark.django_db

# The grid as a template wrote it before the tag (templates/catalog/_product_cards.html, included
# with cards, card_sizes and empty, less its comment): the reference the tag must match byte for byte.
TEMPLATE_BEFORE = (
    '{% load shop %}{% with sizes=card_sizes|default:"listing" %}{% for product in cards %}'
    '<article class="product-card">\n'
    '  <a href="{{ product.url }}">\n    \n'
    '    {% if product.image %}{% picture product.image sizes=sizes position=forloop.counter %}{% else %}'
    '<div class="no-image" aria-hidden="true"></div>{% endif %}\n'
    "    <h3>{{ product.name }}</h3>\n  </a>\n"
    '  <p class="price">\n'
    '    {% if product.on_sale %}<span class="sale">{{ product.price_from|money }}</span> '
    "<s>{{ product.regular_price_from|money }}</s>\n"
    "    {% else %}{{ product.price_from|money }}{% endif %}\n  </p>\n"
    '  {% if product.rating_count %}<p class="rating" title="{{ product.rating_average }} out of 5">'
    "{{ product.rating_average|stars }} <span>({{ product.rating_count }})</span></p>{% endif %}\n"
    '  <p class="stock {% if product.stock_total %}in{% else %}out{% endif %}" '
    'data-stock-variants="{{ product.variant_ids }}">{% if product.stock_total %}In stock{% else %}Sold out{% endif %}'
    "</p>\n</article>\n"
    "{% empty %}{% if empty %}<p>{{ empty }}</p>{% endif %}{% endfor %}{% endwith %}"
)


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

    assert (f'<article class="product-card">\n  <a href="/p/{product.slug}/">\n    \n'
            '    <div class="no-image" aria-hidden="true"></div>\n    <h3>Sale tee</h3>\n  </a>\n'
            '  <p class="price">\n    <span class="sale">$39.00</span> <s>$52.00</s>\n    \n  </p>\n'
            '  <p class="rating" title="4.30 out of 5">★★★★☆ <span>(12)</span></p>\n'
            f'  <p class="stock in" data-stock-variants="{variant.pk}">In stock</p>\n</article>\n') in page


def test_a_sold_out_card_says_so_and_names_every_active_variant_for_live_stock(client):
    shop = CategoryFactory(name="Caps", slug="caps", path="caps", depth=1)
    product = ProductFactory(name="Cap", categories=[shop])
    first, second = (VariantFactory(product=product, stock=0) for _ in range(2))
    VariantFactory(product=product, stock=5, is_active=False)  # not sold: neither counted nor followed

    page = card_page(client, shop)

    assert f'<p class="stock out" data-stock-variants="{first.pk},{second.pk}">Sold out</p>' in page
    assert '<p class="price">\n    $52.00\n  </p>' in page
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


# --- Byte-identity with the template it replaced ----------------------------------------------------


def images() -> list[ProductImage | None]:
    """Product images in every state a card meets, loaded as listing pages load them
    (catalog.selectors.load_cards) and with their renditions prefetched."""
    def product(name: str) -> Product:
        return ProductFactory(name=name, with_variant=True)

    ready = fake_ready_image(product("Ready"))
    no_lqip = fake_ready_image(product("Ready, no placeholder"))
    ProductImage.objects.filter(pk=no_lqip.pk).update(lqip="", dominant_colour="")
    bad_lqip = fake_ready_image(product("Ready, a placeholder that is not one"))
    ProductImage.objects.filter(pk=bad_lqip.pk).update(lqip="javascript:alert(1)", dominant_colour="red;x")
    jpeg_only = fake_ready_image(product("Ready, JPEG only"))
    Rendition.objects.filter(image=jpeg_only, format="webp").delete()
    unsized = fake_ready_image(product("Ready, size unknown"))
    ProductImage.objects.filter(pk=unsized.pk).update(width=None, height=None, dominant_colour="#ABCDEF")
    ProductImageFactory(product=product("Pending"))
    ProductImageFactory(product=product("Failed"), status=ProductImage.Status.FAILED)
    ProductImageFactory(product=product("No file"), image="")
    rows = list(Product.objects.order_by("pk").values("pk", *CARD_FIELDS))
    loaded = [card.image for card in load_cards(rows)]
    assert sum(image is not None for image in loaded) == 8
    return [None, *loaded, *ProductImage.objects.with_renditions()]


NAMES = ["Tee", 'Tee <b>"bold"</b> & \'co\'', "Größe ½ — 🧦", mark_safe("<i>Safe</i> tee"), "", "{{ x }} {% y %}"]
URLS = ["/p/tee/", '/p/a&b"c/']
PRICES = [(None, None), (Decimal("52.00"), Decimal("52.00")), (Decimal("39.00"), Decimal("52.00")),
          (Decimal("0.00"), Decimal("0.01")), (Decimal("1234.5"), Decimal("99999.99")), (Decimal("7"), Decimal("7"))]
RATINGS = [(None, 0), (Decimal("4.30"), 12), (Decimal("0.00"), 1), (Decimal("5"), 1234), (Decimal("2.49"), 3),
           (None, 2), (Decimal("3.50"), 0)]
VARIANT_IDS = ["", "12", "12,13,14", '<"1">&']
EMPTY = [None, "", "No products match these filters.", mark_safe("No <em>match</em>."), "Nothing <here> & \"there\""]
SIZES = [None, "", "listing", "wide"]


def random_grid(rng: random.Random, pictures: list) -> dict:
    """A template context for a grid of 0-6 random cards, with or without sizes and empty text."""
    cards = []
    for pk in range(rng.choice([0, 1, 1, 2, 4, 5, 6])):
        price_from, regular_price_from = rng.choice(PRICES)
        rating_average, rating_count = rng.choice(RATINGS)
        cards.append(ProductCard(pk=pk, name=rng.choice(NAMES), url=rng.choice(URLS), rating_average=rating_average,
                                 rating_count=rating_count, price_from=price_from,
                                 regular_price_from=regular_price_from, stock_total=rng.choice([0, 1, 40]),
                                 variant_ids=rng.choice(VARIANT_IDS), image=rng.choice(pictures)))
    context = {"cards": cards}
    if (sizes := rng.choice(SIZES)) is not None:
        context["card_sizes"] = sizes
    if (empty := rng.choice(EMPTY)) is not None:
        context["empty"] = empty
    return context


@pytest.mark.parametrize("language,thousand_separator,currency", [
    ("en-us", False, "USD"), ("en-us", True, "GBP"), ("de", False, "EUR"), ("de", True, "A&B<"), ("fr", True, "USD"),
])
def test_cards_are_byte_identical_to_the_template_they_replace(settings, language, thousand_separator, currency):
    settings.USE_THOUSAND_SEPARATOR, settings.SHOP_CURRENCY = thousand_separator, currency
    before = engines["django"].from_string(TEMPLATE_BEFORE)
    after = engines["django"].from_string("{% load shop %}{% product_cards cards sizes=card_sizes empty=empty %}")
    pictures, rng = images(), random.Random(f"{language}{thousand_separator}")
    cards, seen = 0, set()
    with translation.override(language):
        for _ in range(600):
            context = random_grid(rng, pictures)
            html = after.render(context)
            assert html == before.render(context), context
            cards += len(context["cards"])
            seen.update(marker for marker in MARKERS if marker in html)
    assert cards > 1500 and seen == set(MARKERS)


MARKERS = [  # each branch of a card, met at least once by each run above
    '<picture><source type="image/webp"', "<picture><img", "--lqip:url(", "--dominant:#ABCDEF", 'width="300"',
    'loading="eager"', 'loading="lazy"', "is-placeholder", "/media/products/", 'class="no-image"',
    'sizes="(min-width: 1200px) 189px', 'sizes="(min-width: 1200px) 196px', '<span class="sale">', "<s>",
    '<p class="price">\n    \n  </p>', 'class="rating"', "Sold out", "In stock", "&lt;b&gt;&quot;bold&quot;",
    "<i>Safe</i>", 'data-stock-variants="&lt;&quot;1&quot;&gt;&amp;"', "<p>No <em>match</em>.</p>",
    "<p>Nothing &lt;here&gt;",
]
