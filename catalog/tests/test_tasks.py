"""The rendition job: the service it calls, the Celery task (retries, time limits, idempotency),
the periodic re-send of stale jobs, and a real `celery -A shop worker` process on the real Redis
and the test database."""
import io
import re
from datetime import timedelta

import pytest
from celery.exceptions import Retry, SoftTimeLimitExceeded
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone
from PIL import Image

from catalog.images import services, tasks
from catalog.models import ProductImage, Rendition
from catalog.tests.conftest import wait_for

from .factories import ProductFactory


def store_raw(product, name: str, data: bytes) -> ProductImage:
    """An image row whose file went into storage without the upload checks, as a bulk writer or
    an older version of the shop could have left it: the worker is the last line of defence."""
    stored = default_storage.save(f"products/{product.sku}/{name}", ContentFile(data))
    return ProductImage.objects.create(product=product, image=stored, width=1, height=1)


def fresh(image: ProductImage) -> ProductImage:
    """The row as stored. (Not refresh_from_db(): re-assigning an ImageField makes Django read the
    file again for its dimensions, which a bomb makes Pillow refuse.)"""
    return ProductImage.objects.get(pk=image.pk)


def upload(product, path) -> ProductImage:
    return services.save_product_image(image=ProductImage(product=product, alt_text=path.stem),
                                       upload=ContentFile(path.read_bytes(), name=path.name))


# --- The service --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_processing_a_luma_photo_fills_in_everything_a_page_needs(luma_photo):
    image = upload(ProductFactory(), luma_photo)
    assert image.status == ProductImage.Status.PENDING and image.enqueued_at
    assert image.webp_srcset == "" and image.src_url == image.image.url  # not ready: the original

    outcome = services.process_product_image(image_id=image.pk)
    assert (outcome.status, outcome.made) == ("processed", 6)
    image = ProductImage.objects.with_renditions().get()
    original = Image.open(luma_photo)
    assert image.is_ready and (image.width, image.height) == original.size
    assert re.fullmatch(r"#[0-9a-f]{6}", image.dominant_colour)
    assert image.lqip.startswith("data:image/webp;base64,")
    assert [r.width for r in image.webp_renditions] == [320, 640, 1024]
    assert [r.width for r in image.jpeg_renditions] == [320, 640, 1024]
    for rendition in image.renditions.all():
        name = rf"renditions/{image.pk}/[a-z0-9_-]+-{rendition.width}w\.[0-9a-f]{{16}}\.{rendition.format}"
        assert re.fullmatch(name, rendition.file.name)
        with default_storage.open(rendition.file.name) as handle:
            out = Image.open(io.BytesIO(handle.read()))
        assert out.size == (rendition.width, rendition.height) and not out.getexif()
        assert rendition.size == default_storage.size(rendition.file.name)
    assert image.webp_srcset.count("w, ") == 2 and image.webp_srcset.endswith(" 1024w")
    assert image.src_url.endswith(".jpeg") and "-1024w." in image.src_url


@pytest.mark.django_db
def test_processing_again_makes_nothing_new(luma_photo):
    image = upload(ProductFactory(), luma_photo)
    services.process_product_image(image_id=image.pk)
    before = {(r.pk, r.file.name) for r in Rendition.objects.all()}
    files_before = set(default_storage.listdir(f"renditions/{image.pk}")[1])

    assert services.process_product_image(image_id=image.pk).status == "skipped"
    again = services.process_product_image(image_id=image.pk, check_storage=True)  # reads and checks files
    assert (again.status, again.made) == ("skipped", 0)
    assert {(r.pk, r.file.name) for r in Rendition.objects.all()} == before
    assert set(default_storage.listdir(f"renditions/{image.pk}")[1]) == files_before


@pytest.mark.django_db
def test_a_lost_rendition_file_is_made_again_when_storage_is_checked(luma_photo):
    image = upload(ProductFactory(), luma_photo)
    services.process_product_image(image_id=image.pk)
    lost = Rendition.objects.get(width=640, format="webp")
    default_storage.delete(lost.file.name)
    outcome = services.process_product_image(image_id=image.pk, check_storage=True)
    assert (outcome.status, outcome.made) == ("processed", 1)
    assert default_storage.exists(lost.file.name)  # same content, same name
    assert Rendition.objects.count() == 6


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bomb_100mp_png", "truncated_jpeg", "png_html_polyglot", "eps", "zero_bytes"])
def test_a_bad_file_marks_the_image_failed_with_the_reason(hostile_corpus, name):
    data, phrase = hostile_corpus[name]
    image = store_raw(ProductFactory(), f"{name}.jpg", data)
    outcome = services.process_product_image(image_id=image.pk)
    image = fresh(image)
    assert outcome.status == "failed" and image.status == ProductImage.Status.FAILED
    assert phrase.lower() in image.failure_reason.lower()
    assert not image.renditions.exists()


@pytest.mark.django_db
def test_a_missing_original_or_image_is_reported_not_raised():
    image = ProductImage.objects.create(product=ProductFactory(), image="products/x/gone.jpg", width=1, height=1)
    assert services.process_product_image(image_id=image.pk).status == "failed"
    image = fresh(image)
    assert "missing from storage" in image.failure_reason
    assert services.process_product_image(image_id=999_999).status == "missing"


@pytest.mark.django_db
def test_an_image_that_keeps_killing_its_worker_is_given_up(luma_photo):
    image = upload(ProductFactory(), luma_photo)
    ProductImage.objects.filter(pk=image.pk).update(attempts=services.MAX_PROCESSING_ATTEMPTS)
    assert services.process_product_image(image_id=image.pk).status == "failed"
    image = fresh(image)
    assert image.status == ProductImage.Status.FAILED and "5 times" in image.failure_reason


# --- The task -------------------------------------------------------------------------------------


def test_the_task_is_configured_for_a_real_queue():
    task = tasks.make_renditions
    assert task.acks_late and task.max_retries == 5
    assert (task.soft_time_limit, task.time_limit) == (60, 90)


@pytest.mark.django_db
def test_storage_errors_are_retried_with_backoff_then_the_image_is_marked_failed(monkeypatch, luma_photo):
    image = upload(ProductFactory(), luma_photo)

    def broken(**kwargs):
        raise OSError("storage is down")

    monkeypatch.setattr(services, "process_product_image", broken)
    for retries in range(tasks.RENDITION_MAX_RETRIES):  # each attempt asks for a later retry
        with pytest.raises(Retry) as retry:
            tasks.make_renditions.apply(args=[image.pk], retries=retries)
        assert 0 <= retry.value.when <= min(tasks.RETRY_BACKOFF_MAX, tasks.RETRY_BACKOFF * 2**retries)
        assert fresh(image).status == ProductImage.Status.PENDING
    with pytest.raises(OSError):  # the last attempt gives up
        tasks.make_renditions.apply(args=[image.pk], retries=tasks.RENDITION_MAX_RETRIES)
    image = fresh(image)
    assert image.status == ProductImage.Status.FAILED
    assert image.failure_reason == "Gave up after 6 attempts: OSError: storage is down"


@pytest.mark.django_db
def test_the_soft_time_limit_marks_the_image_failed(monkeypatch, luma_photo):
    image = upload(ProductFactory(), luma_photo)

    def slow(**kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(services, "process_product_image", slow)
    assert tasks.make_renditions.apply(args=[image.pk]).get() == "failed"
    image = fresh(image)
    assert image.failure_reason == "Processing took longer than 60 seconds."


@pytest.mark.django_db
def test_jobs_are_sent_only_after_commit(monkeypatch, luma_photo, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.make_renditions, "delay", lambda image_id: sent.append(image_id))
    with django_capture_on_commit_callbacks(execute=True):
        image = upload(ProductFactory(), luma_photo)
        assert sent == []
    assert sent == [image.pk]


@pytest.mark.django_db
def test_stale_pending_images_are_sent_again(monkeypatch, luma_photo, django_capture_on_commit_callbacks):
    sent = []
    monkeypatch.setattr(tasks.make_renditions, "delay", lambda image_id: sent.append(image_id))
    product = ProductFactory()
    now = timezone.now()
    def make(name: str, **values) -> ProductImage:
        return ProductImage.objects.create(product=product, image=name, width=1, height=1, **values)

    stale = make("a.jpg", enqueued_at=now - timedelta(minutes=11))
    never_sent = make("b.jpg")
    make("c.jpg", enqueued_at=now - timedelta(minutes=2))
    make("d.jpg", status="ready", enqueued_at=now - timedelta(days=1))
    make("e.jpg", status="failed", enqueued_at=now - timedelta(days=1))
    with django_capture_on_commit_callbacks(execute=True):
        assert tasks.requeue_stale_images.apply().get() == 2
    assert sorted(sent) == sorted([stale.pk, never_sent.pk])
    assert fresh(stale).enqueued_at > now  # not sent again for another 10 minutes
    with django_capture_on_commit_callbacks(execute=True):
        assert services.requeue_stale_images() == 0


@pytest.mark.django_db
def test_import_catalog_sends_one_job_per_new_image_after_commit(monkeypatch, luma_dir, tmp_path,
                                                                 django_capture_on_commit_callbacks):
    from catalog.tests.test_process_images import import_luma_slice

    sent = []
    monkeypatch.setattr(tasks.make_renditions, "delay", lambda image_id: sent.append(image_id))
    with django_capture_on_commit_callbacks(execute=True):
        import_luma_slice(luma_dir, tmp_path)
    assert sorted(sent) == sorted(ProductImage.objects.values_list("pk", flat=True)) and sent
    assert not ProductImage.objects.exclude(status=ProductImage.Status.PENDING).exists()
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        import_luma_slice(luma_dir, tmp_path)  # a re-import creates no image, sends no job
    assert sent == []


# --- A real worker ----------------------------------------------------------------------------------


def _statuses(ids):
    return dict(ProductImage.objects.filter(pk__in=ids).values_list("pk", "status"))


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_makes_renditions_and_goes_on_past_bad_files(celery_worker, hostile_corpus, luma_photos):
    product = ProductFactory()
    with transaction.atomic():
        bad = [store_raw(product, f"{name}.jpg", hostile_corpus[name][0])
               for name in ("bomb_100mp_png", "png_html_polyglot", "truncated_jpeg")]
        services.product_images_saved(image_ids=[image.pk for image in bad])  # sent first
        good = [upload(product, path) for path in luma_photos[:2]]
        ids = [image.pk for image in bad + good]
        assert set(_statuses(ids).values()) == {"pending"}
    wait_for(lambda: "pending" not in _statuses(ids).values(), timeout=90,
             message=lambda: f"images still pending: {_statuses(ids)}\n{celery_worker.log()[-3000:]}")
    statuses = _statuses(ids)
    assert [statuses[image.pk] for image in bad] == ["failed"] * 3
    assert [statuses[image.pk] for image in good] == ["ready"] * 2
    reasons = [fresh(image).failure_reason for image in bad]
    assert "too large (100.0 megapixels" in reasons[0] and "polyglot" in reasons[1] and "truncated" in reasons[2]
    for image in map(fresh, good):
        assert image.lqip and image.dominant_colour and image.renditions.count() == 6
        for rendition in image.renditions.all():
            assert (celery_worker.media_root / rendition.file.name).is_file()

    # The same job again (a redelivery) makes nothing new; a later job shows the worker got to it.
    first = good[0]
    before = {(r.pk, r.file.name, r.created_at) for r in first.renditions.all()}
    mtimes = {r.file.name: (celery_worker.media_root / r.file.name).stat().st_mtime_ns for r in first.renditions.all()}
    tasks.make_renditions.delay(first.pk)
    later = upload(product, luma_photos[2])
    wait_for(lambda: ProductImage.objects.get(pk=later.pk).status != "pending", timeout=60,
             message=lambda: celery_worker.log()[-3000:])
    assert {(r.pk, r.file.name, r.created_at) for r in first.renditions.all()} == before
    assert {name: (celery_worker.media_root / name).stat().st_mtime_ns for name in mtimes} == mtimes
    assert f"catalog.tasks.make_renditions[" in celery_worker.log()
