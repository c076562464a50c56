"""Every way stock changes reaches the channel layer, after commit, through broadcast_stock."""
import asyncio
import csv
import io

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient

from accounts.models import User
from catalog.live import realtime
from catalog.models import Variant
from catalog.tests.factories import VariantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def in_memory_layer(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}


def listen(variant_id: int) -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(realtime.stock_group(variant_id), channel)
    return channel


def received(channel: str) -> list[dict]:
    """Every payload waiting on `channel` (waits 0.2 s for stragglers)."""
    layer = get_channel_layer()

    async def drain() -> list[dict]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), 0.2))
            except asyncio.TimeoutError:
                return messages

    return [message["payload"] for message in async_to_sync(drain)()]


@pytest.fixture
def staff_client(client):
    client.force_login(User.objects.create_superuser(email="boss@example.com", password="x"))
    return client


def test_admin_list_edit_broadcasts_after_commit(staff_client, django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=3)
    channel = listen(variant.pk)
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:catalog_variant_changelist"), {
            "form-TOTAL_FORMS": 1, "form-INITIAL_FORMS": 1, "form-0-id": variant.pk, "form-0-stock": 0,
            "_save": "Save"})
    [message] = received(channel)
    assert (message["variant"], message["stock"], message["in_stock"]) == (variant.pk, 0, False)


def test_admin_product_inline_edit_broadcasts(staff_client, django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=3, sku="INLINE-1")
    product = variant.product
    channel = listen(variant.pk)
    data = {"name": product.name, "sku": product.sku, "slug": product.slug, "description": "", "short_description": "",
            "attributes": "{}", "seo_title": "", "seo_description": "", "is_visible": "on", "tax_class": "standard",
            "variants-TOTAL_FORMS": 1, "variants-INITIAL_FORMS": 1, "variants-MIN_NUM_FORMS": 0,
            "variants-MAX_NUM_FORMS": 1000, "variants-0-id": variant.pk, "variants-0-product": product.pk,
            "variants-0-sku": "INLINE-1", "variants-0-price": "52.00", "variants-0-stock": 12,
            "variants-0-low_stock_threshold": 5, "variants-0-is_active": "on",
            "images-TOTAL_FORMS": 0, "images-INITIAL_FORMS": 0, "images-MIN_NUM_FORMS": 0,
            "images-MAX_NUM_FORMS": 1000}
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:catalog_product_change", args=[product.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert Variant.objects.get(pk=variant.pk).stock == 12
    assert [m["stock"] for m in received(channel)] == [12]


def test_api_stock_change_broadcasts(django_capture_on_commit_callbacks):
    variant = VariantFactory(stock=3)
    channel = listen(variant.pk)
    api = APIClient()
    api.force_authenticate(User.objects.create_superuser(email="api@example.com", password="x"))
    with django_capture_on_commit_callbacks(execute=True):
        api.patch(reverse("variant-stock", args=[variant.pk]), {"delta": 4}, format="json")
    assert [m["stock"] for m in received(channel)] == [7]


def test_reimport_with_new_stock_broadcasts(luma_dir, tmp_path, django_capture_on_commit_callbacks):
    with open(luma_dir / "products.csv", newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        rows = [row for row in reader if row["sku"] == "24-MB01"]
        fieldnames = reader.fieldnames
    path = tmp_path / "bag.csv"

    def write(qty: str) -> None:
        rows[0]["qty"] = qty
        with open(path, "w", newline="", encoding="utf-8") as target:
            writer = csv.DictWriter(target, fieldnames=fieldnames)
            writer.writeheader()
            writer.writerows(rows)

    write("100")
    call_command("import_catalog", str(path), stdout=io.StringIO())
    channel = listen(Variant.objects.get(sku="24-MB01").pk)
    write("4")
    with django_capture_on_commit_callbacks(execute=True):
        call_command("import_catalog", str(path), stdout=io.StringIO())
    [message] = received(channel)
    assert (message["sku"], message["stock"]) == ("24-MB01", 4)


def test_a_broken_channel_layer_never_breaks_the_write(settings, caplog, django_capture_on_commit_callbacks):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer",
                                           "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}}  # nothing listens
    variant = VariantFactory(stock=3)
    from catalog.services import set_stock

    with django_capture_on_commit_callbacks(execute=True):
        set_stock(variant=variant, stock=1)
    assert Variant.objects.get(pk=variant.pk).stock == 1
    assert "Live update failed" in caplog.text
