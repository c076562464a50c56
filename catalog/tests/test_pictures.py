"""Product pictures on the storefront, through the Django client: <picture> with WebP and JPEG
srcsets, sizes, width/height, lazy loading, fetchpriority, the LQIP; the original while renditions
are pending, the placeholder for a refused file; constant query counts; media cache headers."""
import io
import re
from html.parser import HTMLParser

import pytest

from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from PIL import Image

from branding.selectors import stored_branding
from catalog import services
from catalog.models import Product, ProductImage, Rendition
from catalog.selectors import primary_image_subquery
from catalog.templatetags.catalog_tags import PICTURE_SIZES, picture
from catalog.tests.factories import CategoryFactory, ProductFactory, ProductImageFactory, VariantFactory

pytestmark = pytest.mark.django_db

PHOTO_SIZE = (1100, 1364)  # wide enough for the 320, 640 and 1024 px renditions (not 1600)


# --- Helpers ------------------------------------------------------------------------------------


class Tags(HTMLParser):
    """The page's <source> and <img> tags in document order, as attribute dicts; each <img>
    inside a <picture> gets the <source>s before it under "sources"."""

    def __init__(self, html: str):
        super().__init__()
        self.images: list[dict] = []
        self._sources: list[dict] | None = None
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "picture":
            self._sources = []
        elif tag == "source" and self._sources is not None:
            self._sources.append(attrs)
        elif tag == "img":
            self.images.append({**attrs, "sources": self._sources or []})

    def handle_endtag(self, tag):
        if tag == "picture":
            self._sources = None


def product_images(html: str) -> list[dict]:
    """The <img>s of product pictures (class picture-img) on a page."""
    return [img for img in Tags(html).images if "picture-img" in img.get("class", "").split()]


def srcset_widths(srcset: str) -> list[int]:
    return [int(candidate.split()[-1][:-1]) for candidate in srcset.split(",")]


def gradient_jpeg(size=PHOTO_SIZE) -> ContentFile:
    """A real photo-like JPEG (a gradient, so the renditions are not all one colour)."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize(size).convert("RGB").save(buffer, "JPEG", quality=85)
    return ContentFile(buffer.getvalue(), name="photo.jpg")


def visible_product(name: str, category=None) -> Product:
    product = ProductFactory(name=name, categories=[category] if category else None)
    VariantFactory(product=product)
    return product


def processed_image(product: Product, **fields) -> ProductImage:
    """An image stored through the upload service, its renditions made by the worker's service
    (called here: with REDIS_URL set, jobs go to the broker, and this test runs no worker)."""
    image = services.save_product_image(image=ProductImage(product=product, alt_text=product.name, **fields),
                                        upload=gradient_jpeg())
    outcome = services.process_product_image(image_id=image.pk)
    assert outcome.status == "processed", outcome
    image.refresh_from_db()
    return image


def fake_ready_image(product: Product, position: int = 0) -> ProductImage:
    """An image marked ready with rendition rows (no files): fast, for query counting."""
    image = ProductImageFactory(product=product, position=position)
    Rendition.objects.bulk_create(
        Rendition(image=image, format=fmt, width=width, height=round(width * 1.24), size=1000,
                  file=f"renditions/{image.pk}/photo-{width}w.{'0' * 16}.{fmt}", source_hash="0" * 64)
        for fmt in ("webp", "jpeg") for width in (320, 640, 1024)
    )
    ProductImage.objects.filter(pk=image.pk).update(status=ProductImage.Status.READY, width=1100, height=1364,
                                                    lqip="data:image/webp;base64,UklGRg==", dominant_colour="#445566")
    image.refresh_from_db()
    return image


def count_queries(client, url: str) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


# --- Listing cards ------------------------------------------------------------------------------


def test_listing_cards_render_webp_and_jpeg_srcsets_with_sizes_dimensions_and_lqip(client):
    shop = CategoryFactory(name="Hoodies", slug="hoodies", path="hoodies", depth=1)
    product = visible_product("A hoodie", shop)
    image = processed_image(product)
    assert image.is_ready and image.lqip.startswith("data:image/webp;base64,")

    [card] = product_images(client.get(shop.get_absolute_url()).content.decode())

    [webp] = card["sources"]
    assert webp["type"] == "image/webp"
    assert srcset_widths(webp["srcset"]) == [320, 640, 1024]
    assert all(re.search(r"/media/renditions/\d+/photo-\d+w\.[0-9a-f]{16}\.webp$", c.split()[0])
               for c in webp["srcset"].split(", "))
    assert webp["sizes"] == card["sizes"] == PICTURE_SIZES["listing"]
    # The JPEG fallback for browsers without WebP.
    assert srcset_widths(card["srcset"]) == [320, 640, 1024]
    assert all(c.split()[0].endswith(".jpeg") for c in card["srcset"].split(", "))
    assert card["src"].endswith(".jpeg") and "-1024w." in card["src"]
    # The photo's own shape, so nothing moves when it arrives.
    assert (card["width"], card["height"]) == ("1100", "1364")
    # The blurred placeholder over the dominant colour until it loads.
    assert f"--lqip:url('{image.lqip}')" in card["style"]
    assert re.fullmatch(r"#[0-9a-f]{6}", image.dominant_colour)
    assert f"--dominant:{image.dominant_colour}" in card["style"]
    assert card["alt"] == ""  # the product name right below says what the link is
    assert card["fetchpriority"] == "high"  # the first card: the page's largest paint on a phone


def test_cards_after_the_first_row_load_lazily(client):
    shop = CategoryFactory(name="Tees", slug="tees", path="tees", depth=1)
    for number in range(1, 7):
        ProductImageFactory(product=visible_product(f"Tee {number}", shop))  # pending: the original
    cards = product_images(client.get(shop.get_absolute_url() + "?sort=name").content.decode())
    assert [card["loading"] for card in cards] == ["eager"] * 4 + ["lazy"] * 2
    assert [card.get("fetchpriority") for card in cards] == ["high"] + [None] * 5


def test_home_page_cards_are_sized_for_the_full_width_grid(client):
    fake_ready_image(visible_product("New bag"))
    hero, *cards = product_images(client.get("/").content.decode())  # the hero, then the rails' cards
    assert hero["sizes"] == hero["sources"][0]["sizes"] == PICTURE_SIZES["hero"] and hero["fetchpriority"] == "high"
    assert cards and all(card["sizes"] == card["sources"][0]["sizes"] == PICTURE_SIZES["wide"] for card in cards)
    # Only the hero is fetched at once: the rails below it load when scrolled near.
    assert all(card["loading"] == "lazy" and "fetchpriority" not in card for card in cards)


def test_pending_image_shows_the_original_scaled_without_srcset(client):
    shop = CategoryFactory(name="Bags", slug="bags", path="bags", depth=1)
    product = visible_product("A bag", shop)
    image = services.save_product_image(image=ProductImage(product=product), upload=gradient_jpeg((400, 500)))
    assert image.status == ProductImage.Status.PENDING

    for url in (shop.get_absolute_url(), reverse("catalog:product", args=[product.slug])):
        img = product_images(client.get(url).content.decode())[0]
        assert img["src"] == image.image.url
        assert (img["width"], img["height"]) == ("400", "500")
        assert "srcset" not in img and "sizes" not in img and img["sources"] == []
        assert "style" not in img  # no placeholder yet: the neutral CSS background


def test_refused_image_shows_the_placeholder_never_the_original(client):
    shop = CategoryFactory(name="Caps", slug="caps", path="caps", depth=1)
    product = visible_product("A cap", shop)
    image = ProductImageFactory(product=product)
    services.mark_image_failed(image_id=image.pk, reason="The file is truncated.")

    for url in (shop.get_absolute_url(), reverse("catalog:product", args=[product.slug])):
        page = client.get(url).content.decode()
        img = product_images(page)[0]
        assert img["src"].endswith("/static/img/placeholder.svg")
        assert "is-placeholder" in img["class"] and img["width"] and img["height"]
        assert image.image.url not in page


def test_product_without_images_shows_the_no_image_box(client):
    shop = CategoryFactory(name="Socks", slug="socks", path="socks", depth=1)
    visible_product("Socks", shop)
    page = client.get(shop.get_absolute_url()).content.decode()
    assert product_images(page) == [] and 'class="no-image"' in page


# --- Product page -------------------------------------------------------------------------------


def test_product_page_main_image_is_high_priority_with_product_sizes_and_thumbs_are_small(client):
    product = visible_product("Chaz Kangeroo Hoodie")
    first = processed_image(product, position=0)
    second = fake_ready_image(product, position=1)

    page = client.get(reverse("catalog:product", args=[product.slug])).content.decode()
    main, *thumbs = product_images(page)

    assert main["fetchpriority"] == "high" and main["loading"] == "eager"
    assert main["sizes"] == main["sources"][0]["sizes"] == PICTURE_SIZES["product"]
    assert srcset_widths(main["sources"][0]["srcset"]) == [320, 640, 1024]
    assert main["sources"][0]["type"] == "image/webp"
    assert srcset_widths(main["srcset"]) == [320, 640, 1024]
    assert (main["width"], main["height"]) == ("1100", "1364")
    assert main["alt"] == "Chaz Kangeroo Hoodie"
    assert f"--lqip:url('{first.lqip}')" in main["style"]
    # The gallery script moves a thumbnail's picture into the main slot with these sizes.
    assert f'data-sizes="{PICTURE_SIZES["product"]}"' in page

    assert len(thumbs) == 2
    assert all(t["sizes"] == "64px" and t["loading"] == "lazy" and "fetchpriority" not in t for t in thumbs)
    # Without JavaScript a thumbnail links to its widest JPEG.
    assert f'href="{first.jpeg_renditions[-1].url}" data-gallery-thumb' in page
    assert f'href="{second.jpeg_renditions[-1].url}" data-gallery-thumb' in page


# --- Queries ------------------------------------------------------------------------------------


def test_listing_query_count_is_the_same_for_one_and_a_full_page_of_pictures(client):
    shop = CategoryFactory(name="Jackets", slug="jackets", path="jackets", depth=1)

    def add(count: int) -> None:
        for _ in range(count):
            product = visible_product(f"Jacket {Product.objects.count():03}", shop)
            fake_ready_image(product, position=0)
            fake_ready_image(product, position=1)  # only the first is fetched for the card

    add(1)
    stored_branding()  # the shop's branding, cached as every page after the first finds it (branding.selectors)
    one, page = count_queries(client, shop.get_absolute_url())
    assert len(product_images(page)) == 1
    add(30)
    full, page = count_queries(client, shop.get_absolute_url())
    assert len(product_images(page)) == 24 and all(img["sources"] for img in product_images(page))
    assert one == full, (one, full)


def test_home_and_product_page_query_counts_do_not_grow_with_pictures(client):
    first = visible_product("Bag 0")
    fake_ready_image(first)
    stored_branding()  # the shop's branding, cached as every page after the first finds it (branding.selectors)
    home_one, _ = count_queries(client, "/")
    product_one, _ = count_queries(client, reverse("catalog:product", args=[first.slug]))
    for number in range(1, 10):
        fake_ready_image(visible_product(f"Bag {number}"))
    for position in range(1, 5):
        fake_ready_image(first, position=position)
    home_full, page = count_queries(client, "/")
    product_full, product_page = count_queries(client, reverse("catalog:product", args=[first.slug]))
    # the hero, and the rails "New arrivals" and "Best sellers" of 8 cards each (catalog.rails)
    assert len(product_images(page)) == 17 and len(product_images(product_page)) == 6
    assert (home_one, product_one) == (home_full, product_full)


# --- Thumbnails elsewhere (cart lines, the admin's list) ------------------------------------------


def test_primary_image_subquery_prefers_the_narrowest_jpeg_and_never_a_refused_file():
    ready, pending, failed, none = (visible_product(name) for name in ("Ready", "Pending", "Failed", "None"))
    fake_ready_image(ready)
    pending_image = ProductImageFactory(product=pending)
    # position 0: the factory's position sequence passes 99 when many images were made before this test
    services.mark_image_failed(image_id=ProductImageFactory(product=failed, position=0).pk, reason="bad")
    ProductImageFactory(product=failed, position=99)  # a later image does not stand in for the first

    paths = dict(Product.objects.annotate(path=primary_image_subquery()).values_list("name", "path"))
    assert re.fullmatch(r"renditions/\d+/photo-320w\.0{16}\.jpeg", paths["Ready"])
    assert paths["Pending"] == pending_image.image.name
    assert paths["Failed"] is None and paths["None"] is None


def test_cart_line_shows_the_small_rendition_not_the_original(client):
    product = visible_product("Cart bag")
    image = fake_ready_image(product)
    variant = product.variants.get()
    client.post(reverse("orders:cart_add"), {"product": product.pk, "variant": variant.pk, "quantity": 1})
    page = client.get(reverse("orders:cart")).content.decode()
    [line_image] = [img for img in Tags(page).images if img["src"].startswith("/media/")]
    assert line_image["src"] == image.jpeg_renditions[0].url and "-320w." in line_image["src"]


# --- The tag itself -----------------------------------------------------------------------------


def test_picture_tag_refuses_a_placeholder_or_colour_that_is_not_one():
    image = ProductImage.objects.with_renditions().get(pk=fake_ready_image(visible_product("Odd")).pk)
    image.lqip = "data:image/webp;base64,AAAA');background:url(https://evil.example/x"
    image.dominant_colour = "red;x:y"
    context = picture(image, sizes="listing")
    assert context["lqip"] == "" and context["colour"] == ""
    with pytest.raises(KeyError):
        picture(image, sizes="no-such-layout")


# --- Media cache headers ------------------------------------------------------------------------


def test_media_responses_cache_renditions_for_a_year_and_originals_for_a_day(client):
    image = processed_image(visible_product("Cached"))
    rendition = image.renditions.filter(format="webp").first()

    response = client.get(rendition.url)
    assert response.status_code == 200 and response["Content-Type"] == "image/webp"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"

    response = client.get(image.image.url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "public, max-age=86400"

    # A revalidation of an original answers 304 and keeps the header.
    response = client.get(image.image.url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
    assert response.status_code == 304 and response["Cache-Control"] == "public, max-age=86400"
    assert client.get("/media/renditions/0/none-320w.0000000000000000.webp").status_code == 404
