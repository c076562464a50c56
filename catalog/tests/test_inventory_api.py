"""The stock snapshot and stock change API, and the staff page, through the clients."""
import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from catalog.models import Variant
from catalog.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture
def staff_api(api):
    api.force_authenticate(User.objects.create_superuser(email="stock@example.com", password="x"))
    return api


def test_snapshot_gives_current_stock_of_known_variants(api):
    sold_out = VariantFactory(stock=0, sku="MH01-M-Gray")
    plenty = VariantFactory(stock=7)
    response = api.get(reverse("inventory-snapshot"), {"variants": f"{sold_out.pk},{plenty.pk},999999"})
    assert response.status_code == 200
    rows = {row["variant"]: row for row in response.json()["variants"]}
    assert rows.keys() == {sold_out.pk, plenty.pk}
    assert rows[sold_out.pk] | {"ts": None} == {"type": "stock", "variant": sold_out.pk, "product": sold_out.product_id,
                                                "sku": "MH01-M-Gray", "stock": 0, "in_stock": False, "ts": None}
    assert rows[plenty.pk]["in_stock"] is True


@pytest.mark.parametrize("query", [{}, {"variants": "a,b"}, {"variants": "-1"}, {"variants": ",".join(["1"] * 501)}])
def test_snapshot_rejects_bad_ids_with_a_json_400(api, query):
    response = api.get(reverse("inventory-snapshot"), query)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and "variants" in body["fields"] and body["detail"]


def test_staff_set_or_adjust_stock_through_the_api(staff_api):
    variant = VariantFactory(stock=5)
    url = reverse("variant-stock", args=[variant.pk])
    assert staff_api.patch(url, {"stock": 9}, format="json").json()["stock"] == 9
    assert staff_api.patch(url, {"delta": -4}, format="json").json()["stock"] == 5
    refused = staff_api.patch(url, {"delta": -6}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "insufficient_stock"
    for bad in ({}, {"stock": -1}, {"stock": 1, "delta": 1}, {"stock": 2**31}, {"delta": "many"}):
        assert staff_api.patch(url, bad, format="json").status_code == 400, bad
    assert staff_api.patch(reverse("variant-stock", args=[999999]), {"stock": 1}, format="json").status_code == 404
    assert Variant.objects.get(pk=variant.pk).stock == 5


def test_customers_cannot_change_stock(api):
    variant = VariantFactory(stock=5)
    url = reverse("variant-stock", args=[variant.pk])
    assert api.patch(url, {"stock": 0}, format="json").status_code in (401, 403)
    api.force_authenticate(UserFactory())
    assert api.patch(url, {"stock": 0}, format="json").status_code == 403
    assert Variant.objects.get(pk=variant.pk).stock == 5


def test_staff_dashboard_lists_low_stock_and_needs_staff(client):
    VariantFactory(sku="LOW-1", stock=2, low_stock_threshold=5)
    VariantFactory(sku="FULL-1", stock=50)
    assert client.get(reverse("analytics:staff_dashboard")).status_code == 302
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    page = client.get(reverse("analytics:staff_dashboard")).content.decode()
    assert "LOW-1" in page and "FULL-1" not in page and "js/staff.js" in page


def test_staff_upload_a_product_image_through_the_api(staff_api):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from catalog.models import ProductImage
    from catalog.tests.factories import jpeg_file

    variant = VariantFactory()
    url = reverse("product-image-upload", args=[variant.product_id])
    photo = jpeg_file(size=(40, 50))
    response = staff_api.post(url, {"image": SimpleUploadedFile("bag.jpg", photo.read(), "image/jpeg"),
                                    "alt_text": "The bag"}, format="multipart")
    assert response.status_code == 201, response.json()
    image = ProductImage.objects.get(pk=response.json()["id"])
    assert (image.alt_text, image.width, image.height) == ("The bag", 40, 50)
    assert image.status in ("pending", "ready")  # ready when tasks run eagerly (no REDIS_URL)

    polyglot = b"GIF89a<script>alert(1)</script>"
    refused = staff_api.post(url, {"image": SimpleUploadedFile("x.gif", polyglot, "image/gif")}, format="multipart")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_image"
    assert refused.json()["fields"]["image"]
    assert staff_api.post(url, {}, format="multipart").status_code == 400
    assert ProductImage.objects.count() == 1
