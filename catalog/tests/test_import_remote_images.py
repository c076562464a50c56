"""import_catalog fetches image columns that hold a URL through the guarded fetcher."""
import csv
import io

import pytest
from django.core.management import call_command

from catalog.models import ProductImage
from catalog.tests.test_safe_fetch import STAND_IN, image_bytes, public, send, victim  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


def write_bag_csv(luma_dir, path, image_url):
    with open(luma_dir / "products.csv", newline="", encoding="utf-8") as source:
        reader = csv.DictReader(source)
        row = next(r for r in reader if r["sku"] == "24-MB01")
        fieldnames = reader.fieldnames
    row.update(base_image=image_url, small_image=image_url, thumbnail_image=image_url, additional_images="")
    with open(path, "w", newline="", encoding="utf-8") as target:
        writer = csv.DictWriter(target, fieldnames=fieldnames)
        writer.writeheader()
        writer.writerow(row)


def test_url_images_are_fetched_safely(luma_dir, tmp_path, settings, public, victim):  # noqa: F811
    settings.SHOP_IMAGE_PROXY_ALLOWED_HOSTS = [STAND_IN, "127.0.0.1"]
    settings.SHOP_IMAGE_FETCH_TIMEOUT = 3.0
    public.routes["/bag.jpg"] = send(body=image_bytes("JPEG", size=(120, 150)), content_type="image/jpeg")
    good = tmp_path / "good.csv"
    write_bag_csv(luma_dir, good, f"{public.url}/bag.jpg")
    output = io.StringIO()
    call_command("import_catalog", str(good), "--images", str(luma_dir / "images"), stdout=output)
    image = ProductImage.objects.get()
    assert (image.width, image.height, image.source_path) == (120, 150, f"{public.url}/bag.jpg")
    assert public.hits == ["/bag.jpg"]

    evil = tmp_path / "evil.csv"
    write_bag_csv(luma_dir, evil, f"http://127.0.0.1:{victim.port}/secret.png")
    output = io.StringIO()
    call_command("import_catalog", str(evil), "--images", str(luma_dir / "images"), stdout=output)
    assert "line 2: 24-MB01: image http://127.0.0.1" in output.getvalue() and "not fetched" in output.getvalue()
    assert victim.hits == []  # the loopback listener was never reached
