"""`manage.py process_images`: after an import of a real slice of the Luma catalogue, `--missing`
leaves nothing pending; re-running makes nothing new; failures are listed with their reasons;
`--workers N` runs N processes."""
import io
import re
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command

from catalog.models import ProductImage, Rendition
from catalog.tests import luma

from .factories import ProductFactory

SLICE_SKUS = {"MH01", "MH02", "24-MB01"}  # two hoodies with their variants, and a bag


def import_luma_slice(luma_dir: Path, tmp_path: Path) -> str:
    """Import the Luma products in SLICE_SKUS (parents and their variants) with their images."""
    return luma.import_luma_slice(luma_dir, tmp_path, set(SLICE_SKUS))


def process_images(*args: str) -> tuple[str, dict[str, int]]:
    """Run the command; return its output and its summary counts."""
    out = io.StringIO()
    call_command("process_images", *args, stdout=out)
    text = out.getvalue()
    counts = {key: int(value) for key, value in re.findall(r"^(processed|skipped|failed|pending): +(\d+)", text,
                                                           re.MULTILINE)}
    return text, counts


@pytest.mark.django_db
def test_after_an_import_process_images_missing_leaves_nothing_pending(luma_dir, tmp_path):
    import_luma_slice(luma_dir, tmp_path)  # no commit in this test: the import's jobs are never sent
    total = ProductImage.objects.count()
    assert total >= 10 and ProductImage.objects.filter(status="pending").count() == total

    output, counts = process_images("--missing")
    assert counts == {"processed": total, "skipped": 0, "failed": 0, "pending": 0}, output
    assert Rendition.objects.count() == 6 * total  # Luma photos are 1080-1274 px wide: 320, 640, 1024
    assert not ProductImage.objects.exclude(status="ready").exists()

    output, counts = process_images("--missing")  # nothing left to do
    assert counts == {"processed": 0, "skipped": 0, "failed": 0, "pending": 0}, output
    renditions = set(Rendition.objects.values_list("pk", "file"))
    output, counts = process_images("--all")  # every image looked at again: nothing new
    assert counts == {"processed": 0, "skipped": total, "failed": 0, "pending": 0}, output
    assert "(0 renditions made)" in output
    assert set(Rendition.objects.values_list("pk", "file")) == renditions


@pytest.mark.django_db
def test_all_remakes_rendition_files_missing_from_storage(luma_photo):
    image = ProductImage.objects.create(product=ProductFactory(), image=default_storage.save(
        "products/x/photo.jpg", ContentFile(luma_photo.read_bytes())))
    process_images()
    lost = Rendition.objects.filter(image=image).first()
    default_storage.delete(lost.file.name)
    output, counts = process_images("--all")
    assert counts["processed"] == 1 and "(1 renditions made)" in output
    assert default_storage.exists(lost.file.name)


@pytest.mark.django_db
def test_failures_are_listed_with_reasons_and_the_rest_is_processed(luma_photos, hostile_corpus):
    product = ProductFactory()
    good = [ProductImage.objects.create(product=product, image=default_storage.save(
        f"products/x/{path.name}", ContentFile(path.read_bytes()))) for path in luma_photos[:2]]
    bad = ProductImage.objects.create(product=product, image=default_storage.save(
        "products/x/polyglot.png", ContentFile(hostile_corpus["png_html_polyglot"][0])))
    output, counts = process_images("--missing")
    assert counts == {"processed": 2, "skipped": 0, "failed": 1, "pending": 0}, output
    assert re.search(rf"^  image {bad.pk} \(products/x/polyglot.png\): .*polyglot", output, re.MULTILINE), output
    assert all(ProductImage.objects.get(pk=image.pk).is_ready for image in good)
    output, counts = process_images("--missing")  # failed images are tried again: still failed
    assert counts == {"processed": 0, "skipped": 0, "failed": 1, "pending": 0}, output


@pytest.mark.django_db(transaction=True)
def test_workers_process_in_parallel_processes(luma_photos, media_root):
    product = ProductFactory()
    for path in luma_photos:
        ProductImage.objects.create(product=product, image=default_storage.save(
            f"products/x/{path.name}", ContentFile(path.read_bytes())))
    output, counts = process_images("--missing", "--workers", "2")
    assert counts == {"processed": len(luma_photos), "skipped": 0, "failed": 0, "pending": 0}, output
    assert "with 2 workers" in output
    assert Rendition.objects.count() == 6 * len(luma_photos)
    for rendition in Rendition.objects.all():
        assert (media_root / rendition.file.name).is_file()
    output, counts = process_images("--missing", "--workers", "2")
    assert counts["processed"] == 0 and counts["pending"] == 0


def test_workers_must_be_positive():
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="at least 1"):
        call_command("process_images", "--workers", "0")


def test_a_worker_process_makes_its_own_storage():
    """A forked worker does not reuse the parent's storage object (and its S3 client)."""
    from django.core.files.storage import storages

    from catalog.management.commands.process_images import _start_worker_process

    before = storages["default"]
    _start_worker_process()
    assert storages["default"] is not before
