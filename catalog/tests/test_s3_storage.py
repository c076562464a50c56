"""The image pipeline on S3: django-storages' S3Storage against a local moto server. Originals
and renditions go to the bucket through Django's storage API, with long-lived cache headers."""
import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image

from catalog.images import services
from catalog.models import ProductImage, Rendition

from .factories import ProductFactory

pytestmark = pytest.mark.django_db


def test_renditions_are_written_to_the_bucket(s3_storage, luma_photo, media_root):
    image = services.save_product_image(image=ProductImage(product=ProductFactory()),
                                        upload=ContentFile(luma_photo.read_bytes(), name=luma_photo.name))
    assert s3_storage.keys("products/") == [image.image.name]
    assert type(default_storage._wrapped).__name__ == "S3Storage"

    outcome = services.process_product_image(image_id=image.pk)
    assert (outcome.status, outcome.made) == ("processed", 6)
    image = ProductImage.objects.get(pk=image.pk)
    renditions = list(image.renditions.all())
    assert s3_storage.keys(f"renditions/{image.pk}/") == sorted(r.file.name for r in renditions)
    for rendition in renditions:
        head = s3_storage.client.head_object(Bucket=s3_storage.bucket, Key=rendition.file.name)
        assert head["ContentType"] == f"image/{rendition.format}"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"
        assert head["ContentLength"] == rendition.size
        body = s3_storage.client.get_object(Bucket=s3_storage.bucket, Key=rendition.file.name)["Body"].read()
        assert Image.open(io.BytesIO(body)).size == (rendition.width, rendition.height)
        assert rendition.url.startswith(f"{s3_storage.endpoint}/{s3_storage.bucket}/renditions/")
    assert not (media_root / "renditions").exists()  # nothing on the local disk

    # Idempotent on S3 too: nothing new, even when every object is checked.
    keys = s3_storage.keys()
    again = services.process_product_image(image_id=image.pk, check_storage=True)
    assert (again.status, again.made) == ("skipped", 0)
    assert s3_storage.keys() == keys and Rendition.objects.count() == 6

    # An object lost from the bucket is made again.
    lost = renditions[0].file.name
    s3_storage.client.delete_object(Bucket=s3_storage.bucket, Key=lost)
    assert services.process_product_image(image_id=image.pk, check_storage=True).made == 1
    assert s3_storage.keys() == keys


def test_a_hostile_file_in_the_bucket_fails_cleanly(s3_storage, hostile_corpus):
    product = ProductFactory()
    name = default_storage.save("products/x/bomb.png", ContentFile(hostile_corpus["bomb_100mp_png"][0]))
    image = ProductImage.objects.create(product=product, image=name, width=1, height=1)
    assert services.process_product_image(image_id=image.pk).status == "failed"
    image = ProductImage.objects.get(pk=image.pk)
    assert "too large (100.0 megapixels" in image.failure_reason
    assert s3_storage.keys("renditions/") == []


def test_rendition_urls_are_remembered_only_when_they_are_not_signed(s3_storage, settings):
    """catalog.models.media_url: a public bucket's URL depends on the name alone and is kept; with
    AWS_QUERYSTRING_AUTH each URL is signed and expires, so it is asked for every time."""
    from catalog.models import _stable_url, media_url

    name = "renditions/1/photo-320w.abc123.webp"
    public = media_url(name)
    assert public == f"{s3_storage.endpoint}/{s3_storage.bucket}/{name}" and media_url(name) == public
    kept = _stable_url.cache_info().currsize

    settings.AWS_QUERYSTRING_AUTH = True
    settings.STORAGES = {**settings.STORAGES}  # a new storage object, reading the new setting
    signed = media_url(name)
    assert "Signature=" in signed and _stable_url.cache_info().currsize == kept
