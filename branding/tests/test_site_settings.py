"""The admin's "Site settings" page: what staff change there (name, logo, colours, font) is what
shoppers see on the next page, cached pages included; empty fields keep the environment's
settings; unreadable colours and non-images are refused with a message, never a 500."""
import io
import re

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from branding.models import SiteSettings
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from shop import pagecache

pytestmark = pytest.mark.django_db
CHANGE_URL = reverse("admin:branding_sitesettings_change", args=[SiteSettings.SINGLETON_PK])


@pytest.fixture
def staff_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser(email="boss@example.com", password="pw-long-enough-1")
    client.force_login(admin)
    return client


@pytest.fixture
def shelf():
    """A category page and a product page a guest can see."""
    men = CategoryFactory(name="Men", slug="men", path="men", depth=1)
    product = ProductFactory(name="Chaz Kangeroo Hoodie", categories=[men])
    VariantFactory(product=product, size="M", colour="Gray", stock=4)
    return {"category": men.get_absolute_url(), "product": product.get_absolute_url()}


def png(colour=(200, 30, 30)) -> io.BytesIO:
    buffer = io.BytesIO()
    Image.new("RGB", (120, 36), colour).save(buffer, "PNG")
    buffer.seek(0)
    buffer.name = "logo.png"
    return buffer


def form_data(**changes) -> dict:
    return {"shop_name": "", "brand_colour": "", "accent_colour": "", "font": "inter", **changes}


def header_brand(page: str) -> str:
    return re.search(r'<a class="brand" href="/">(.*?)</a>', page, re.S).group(1)


def test_the_admin_lists_one_settings_page_that_starts_from_the_environment(staff_client, settings):
    settings.SHOP_NAME, settings.SHOP_BRAND_COLOUR = "Luma", "#1f4e79"
    response = staff_client.get(reverse("admin:branding_sitesettings_changelist"))
    assert response.status_code == 302 and response["Location"] == CHANGE_URL
    page = staff_client.get(CHANGE_URL).content.decode()
    assert "Empty: the SHOP_NAME setting" in page and "Lora (serif)" in page
    assert not SiteSettings.objects.exists()  # nothing written until staff save
    assert staff_client.get(reverse("admin:branding_sitesettings_add")).status_code == 403
    page = Client().get("/").content.decode()
    assert header_brand(page) == "Luma" and "--brand: #1f4e79;" in page and "<title>Luma" in page


@pytest.mark.parametrize("cache_pages", [False, True], ids=["rendered", "page-cache"])
def test_changing_the_settings_in_the_admin_changes_the_storefront(staff_client, shelf, settings, cache_pages,
                                                                   django_capture_on_commit_callbacks):
    if cache_pages:
        settings.SHOP_PAGE_CACHE_SECONDS = 300
    guest = Client()
    before = {name: guest.get(url) for name, url in shelf.items()}
    assert all(header_brand(r.content.decode()) == settings.SHOP_NAME for r in before.values())
    if cache_pages:
        assert Client().get(shelf["category"])[pagecache.CACHE_HEADER] == "HIT"

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(CHANGE_URL, form_data(
            shop_name="Luma & Co", logo=png(), brand_colour="#0b5d3b", accent_colour="#8e1b5a", font="lora"))
    assert response.status_code == 302, response.content.decode()[:2000]

    for url in (*shelf.values(), "/"):
        page = Client().get(url).content.decode()
        brand = header_brand(page)
        assert re.fullmatch(r'<img src="/media/branding/logo\w*\.png" alt="Luma &amp; Co" height="36">', brand), brand
        assert "--brand: #0b5d3b; --accent: #8e1b5a; --font: var(--font-lora);" in page
        assert "lora-latin-wght-normal" in page and "inter-latin-wght-normal" not in page
        assert "| Luma &amp; Co</title>" in page or "<title>Luma &amp; Co" in page

    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(CHANGE_URL, form_data(**{"logo-clear": "on"}, font="system"))  # back to the environment's
    page = Client().get(shelf["product"]).content.decode()
    assert header_brand(page) == settings.SHOP_NAME and f"--brand: {settings.SHOP_BRAND_COLOUR};" in page
    assert "--font: var(--font-system);" in page and 'rel="preload"' not in page.split("</head>")[0].split("stylesheet")[0]


def test_a_colour_white_text_cannot_be_read_on_and_a_non_image_logo_are_refused(staff_client):
    not_an_image = io.BytesIO(b"<svg onload=alert(1)>")
    not_an_image.name = "logo.png"
    response = staff_client.post(CHANGE_URL, form_data(brand_colour="#f5d90a", accent_colour="red", logo=not_an_image))
    assert response.status_code == 200
    page = response.content.decode()
    assert "This colour is too light" in page and "Enter a colour as #rrggbb" in page
    assert "Upload a valid image" in page
    assert SiteSettings.load().brand_colour == ""


def test_the_storefront_reads_the_settings_once_and_then_from_the_cache(client, shelf, django_assert_num_queries):
    from branding.selectors import stored_branding

    SiteSettings.objects.create(shop_name="Luma")
    assert stored_branding().shop_name == "Luma"
    with django_assert_num_queries(0):
        assert stored_branding().shop_name == "Luma"
    SiteSettings.objects.update(shop_name="Sneaky")  # no save(), no signal: the cache stands
    assert stored_branding().shop_name == "Luma"
    SiteSettings.load().save()
    assert stored_branding().shop_name == "Sneaky"
