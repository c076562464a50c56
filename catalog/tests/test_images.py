"""Hostile uploads are refused with a reason, in bounded time, by catalog.images, by the admin's
image inline form, and by the image service; good photos become correct renditions.

Every hostile file is built by the test itself (see `hostile_corpus` in conftest.py); the real
photos are Luma's, read from ../shared/data at run time.
"""
import base64
import io
import re
import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from catalog import images
from catalog.images import services
from catalog.forms import ProductImageForm
from catalog.models import ProductImage, Rendition

from .conftest import encode
from .factories import ProductFactory, VariantFactory

MAX_BYTES = 15 * 1024 * 1024
BOUND = 2.0  # seconds: every refusal must come at least this fast


# --- catalog.images on its own ----------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["bomb_100mp_png", "bomb_60mp_png", "truncated_jpeg", "png_html_polyglot", "png_script_in_text_chunk",
     "jpeg_html_comment", "eps", "zero_bytes", "html_named_jpg", "svg", "tiff"],
)
def test_hostile_files_are_refused_quickly_with_a_reason(hostile_corpus, name):
    data, phrase = hostile_corpus[name]
    for check in (images.check_image, images.render):
        started = time.monotonic()
        with pytest.raises(images.InvalidImage) as refused:
            check(data, max_bytes=MAX_BYTES)
        assert time.monotonic() - started < BOUND
        assert phrase.lower() in refused.value.reason.lower(), refused.value.reason


def test_the_bomb_is_a_few_kilobytes_and_pillow_itself_refuses_it(hostile_corpus):
    data, _ = hostile_corpus["bomb_100mp_png"]
    assert len(data) < 16 * 1024
    assert Image.MAX_IMAGE_PIXELS == images.MAX_PIXELS == 40_000_000
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(data))


def test_files_over_the_size_limit_are_refused_before_decoding():
    data = encode(Image.new("RGB", (64, 64), "red"), "PNG")
    with pytest.raises(images.InvalidImage, match=r"largest accepted is 100 bytes"):
        images.check_image(data, max_bytes=100)


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("JPEG", {}), ("JPEG", {"progressive": True}), ("PNG", {}), ("WEBP", {}), ("WEBP", {"lossless": True}),
     ("GIF", {})],
)
def test_the_four_formats_are_accepted(fmt, params):
    data = encode(Image.linear_gradient("L").convert("RGB").resize((400, 300)), fmt, **params)
    info = images.check_image(data, max_bytes=MAX_BYTES)
    assert (info.format, info.width, info.height) == (fmt, 400, 300)


def test_a_file_is_opened_only_as_the_format_its_magic_bytes_name():
    png = encode(Image.new("RGB", (16, 16)), "PNG")
    jpeg_claiming = b"\xff\xd8\xff" + png[3:]  # JPEG magic, PNG body
    with pytest.raises(images.InvalidImage):
        images.check_image(jpeg_claiming, max_bytes=MAX_BYTES)


def test_renditions_of_a_real_luma_photo(luma_photo):
    data = luma_photo.read_bytes()
    original = Image.open(io.BytesIO(data))
    rendered = images.render(data, max_bytes=MAX_BYTES)
    assert (rendered.width, rendered.height) == original.size
    widths = [w for w in images.RENDITION_WIDTHS if w <= original.width]
    made = sorted((r.width, r.format) for r in rendered.renditions)
    assert made == sorted((w, f) for w in widths for f in ("webp", "jpeg"))
    for rendition in rendered.renditions:
        with Image.open(io.BytesIO(rendition.data)) as out:
            assert out.format == {"webp": "WEBP", "jpeg": "JPEG"}[rendition.format]
            assert out.size == (rendition.width, rendition.height)
            assert rendition.height == round(original.height * rendition.width / original.width)
            assert not out.getexif() and "xmp" not in out.info and "comment" not in out.info
    assert re.fullmatch(r"#[0-9a-f]{6}", rendered.dominant_colour)
    lqip = _decode_data_uri(rendered.lqip)
    assert lqip.format == "WEBP" and lqip.width == images.LQIP_WIDTH
    assert len(rendered.lqip) < 1000


def _decode_data_uri(uri: str) -> Image.Image:
    header, payload = uri.split(",", 1)
    assert header == "data:image/webp;base64"
    return Image.open(io.BytesIO(base64.b64decode(payload)))


def test_renditions_are_never_upscaled():
    small = encode(Image.new("RGB", (200, 100), "navy"), "PNG")
    rendered = images.render(small, max_bytes=MAX_BYTES)
    assert sorted((r.width, r.height, r.format) for r in rendered.renditions) == [
        (200, 100, "jpeg"), (200, 100, "webp")]
    big = encode(Image.new("RGB", (2000, 1000), "navy"), "JPEG")
    assert sorted({r.width for r in images.render(big, max_bytes=MAX_BYTES).renditions}) == [320, 640, 1024, 1600]
    assert images.rendition_widths(1024) == [320, 640, 1024]
    assert images.rendition_widths(100) == [100]


def test_exif_orientation_is_applied_and_all_metadata_stripped():
    # Stored landscape with "rotate 90 clockwise" (6): displayed portrait, 300 x 400.
    stored = Image.new("RGB", (400, 300), "white")
    stored.paste((255, 0, 0), (0, 0, 200, 300))  # the left half, shown on top once rotated
    exif = stored.getexif()
    exif[0x0112] = 6
    exif[0x010F] = "Camera maker"  # Make
    data = encode(stored, "JPEG", exif=exif.tobytes(), comment=b"taken somewhere")
    info = images.check_image(data, max_bytes=MAX_BYTES)
    assert (info.width, info.height) == (300, 400)
    rendered = images.render(data, max_bytes=MAX_BYTES)
    assert (rendered.width, rendered.height) == (300, 400)
    for rendition in rendered.renditions:
        out = Image.open(io.BytesIO(rendition.data))
        assert out.size == (300, 400)
        assert not out.getexif() and "comment" not in out.info
        top, bottom = out.convert("RGB").getpixel((150, 50)), out.convert("RGB").getpixel((150, 350))
        assert top[0] > 200 and top[1] < 60, top  # red on top: rotated, not just relabelled
        assert min(bottom) > 200, bottom


def test_a_non_srgb_profile_is_converted_to_srgb_and_srgb_is_embedded(swapped_icc):
    data = encode(Image.new("RGB", (400, 300), (255, 0, 0)), "PNG", icc_profile=swapped_icc)
    rendered = images.render(data, max_bytes=MAX_BYTES)
    for rendition in rendered.renditions:
        out = Image.open(io.BytesIO(rendition.data))
        red, green, blue = out.convert("RGB").getpixel((10, 10))
        assert green > 200 and red < 80, (red, green, blue)  # red under swapped primaries is sRGB green
        from PIL import ImageCms

        profile = ImageCms.ImageCmsProfile(io.BytesIO(out.info["icc_profile"]))
        assert "sRGB" in ImageCms.getProfileDescription(profile)


def test_an_untagged_image_stays_untagged_and_transparency_survives_in_webp():
    data = encode(Image.new("RGBA", (400, 300), (0, 0, 255, 0)), "PNG")
    rendered = images.render(data, max_bytes=MAX_BYTES)
    webp = next(r for r in rendered.renditions if r.format == "webp")
    jpeg = next(r for r in rendered.renditions if r.format == "jpeg")
    assert Image.open(io.BytesIO(webp.data)).mode == "RGBA"
    assert "icc_profile" not in Image.open(io.BytesIO(webp.data)).info
    assert Image.open(io.BytesIO(jpeg.data)).getpixel((5, 5)) == (255, 255, 255)  # flattened on white
    assert rendered.dominant_colour == "#ffffff"


def test_render_skips_renditions_that_exist(luma_photo):
    data = luma_photo.read_bytes()
    rendered = images.render(data, max_bytes=MAX_BYTES, skip={(320, "webp"), (640, "jpeg")})
    made = {(r.width, r.format) for r in rendered.renditions}
    assert (320, "webp") not in made and (640, "jpeg") not in made and (320, "jpeg") in made
    assert rendered.lqip and rendered.dominant_colour


# --- The upload form and the admin ---------------------------------------------------------------


def _upload(name: str, data: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type=content_type)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bomb_100mp_png", "truncated_jpeg", "png_html_polyglot", "eps", "zero_bytes"])
def test_the_image_form_names_the_reason(hostile_corpus, name):
    data, phrase = hostile_corpus[name]
    product = ProductFactory()
    started = time.monotonic()
    form = ProductImageForm(data={"alt_text": "x", "position": 0},
                            files={"image": _upload(f"{name}.jpg", data)}, instance=ProductImage(product=product))
    assert not form.is_valid()
    assert time.monotonic() - started < BOUND
    assert phrase.lower() in " ".join(form.errors["image"]).lower(), form.errors


@pytest.mark.django_db
def test_the_image_form_refuses_files_over_the_upload_limit(settings):
    settings.SHOP_IMAGE_MAX_BYTES = 1000
    data = encode(Image.effect_noise((200, 200), 64).convert("RGB"), "PNG")
    form = ProductImageForm(data={"alt_text": "x", "position": 0}, files={"image": _upload("big.png", data)},
                            instance=ProductImage(product=ProductFactory()))
    assert not form.is_valid()
    assert "largest accepted is" in form.errors["image"][0]


def _product_change_data(product, *, image_rows: list[dict]) -> dict:
    """POST data for the product's admin change form with new image inline rows."""
    data = {
        "sku": product.sku, "name": product.name, "slug": product.slug, "description": product.description,
        "short_description": "", "attributes": "{}", "seo_title": "", "seo_description": "", "is_visible": "on",
        "tax_class": "standard", "variants-TOTAL_FORMS": "0", "variants-INITIAL_FORMS": "0", "variants-MIN_NUM_FORMS": "0",
        "variants-MAX_NUM_FORMS": "1000",
        "images-TOTAL_FORMS": str(len(image_rows)), "images-INITIAL_FORMS": "0", "images-MIN_NUM_FORMS": "0",
        "images-MAX_NUM_FORMS": "1000",
    }
    for index, row in enumerate(image_rows):
        data.update({f"images-{index}-{key}": value for key, value in row.items()})
        data.setdefault(f"images-{index}-product", str(product.pk))
    return data


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bomb_100mp_png", "truncated_jpeg", "png_html_polyglot", "eps", "zero_bytes"])
def test_an_admin_upload_of_a_hostile_file_gets_a_form_error_and_stores_nothing(admin_client, hostile_corpus,
                                                                                name, media_root):
    data, phrase = hostile_corpus[name]
    product = ProductFactory()
    started = time.monotonic()
    response = admin_client.post(
        f"/admin/catalog/product/{product.pk}/change/",
        _product_change_data(product, image_rows=[{"image": _upload(f"{name}.png", data), "alt_text": "x",
                                                   "position": "0"}]),
    )
    assert time.monotonic() - started < BOUND * 2
    assert response.status_code == 200  # the form again, with errors
    errors = " ".join(str(error) for error in response.context["inline_admin_formsets"][1].formset.errors)
    assert phrase.lower() in errors.lower(), errors
    assert not ProductImage.objects.exists()
    assert not (media_root / "products").exists()


@pytest.mark.django_db
def test_an_admin_upload_stores_the_file_as_pending_and_makes_renditions_after_commit(
    admin_client, luma_photo, django_capture_on_commit_callbacks, jobs_run_here
):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(
            f"/admin/catalog/product/{product.pk}/change/",
            _product_change_data(product, image_rows=[{"image": _upload("photo.jpg", luma_photo.read_bytes()),
                                                       "alt_text": "Front", "position": "0"}]),
        )
    assert response.status_code == 302, response.context and response.context["errors"]
    image = ProductImage.objects.get()
    assert callbacks and jobs_run_here == [image.pk], "the rendition job is sent after commit"
    assert image.status == ProductImage.Status.READY
    assert image.renditions.count() == 6
    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "Ready (6 files" in page


@pytest.mark.django_db
def test_the_admin_shows_a_failed_image_with_its_reason(admin_client):
    product = ProductFactory()
    image = ProductImage.objects.create(product=product, image="products/x/broken.jpg", width=1, height=1)
    services.mark_image_failed(image_id=image.pk, reason="The JPEG file is truncated (no end-of-image marker).")
    page = admin_client.get(f"/admin/catalog/product/{product.pk}/change/").content.decode()
    assert "Failed:" in page and "The JPEG file is truncated (no end-of-image marker)." in page
    other = ProductFactory()
    listing = admin_client.get("/admin/catalog/product/?images__status__exact=failed").content.decode()
    assert product.name in listing and other.name not in listing


@pytest.mark.django_db
def test_the_admin_action_remakes_renditions(admin_client, luma_photo, django_capture_on_commit_callbacks,
                                             jobs_run_here):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        image = services.save_product_image(image=ProductImage(product=product),
                                            upload=ContentFile(luma_photo.read_bytes(), name="a.jpg"))
    first = set(Rendition.objects.values_list("pk", flat=True))
    assert len(first) == 6
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post("/admin/catalog/product/", {
            "action": "remake_image_renditions", "_selected_action": [product.pk]})
    assert response.status_code == 302
    image.refresh_from_db()
    assert image.status == ProductImage.Status.READY
    second = set(Rendition.objects.values_list("pk", flat=True))
    assert len(second) == 6 and not first & second


# --- The image service ------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["bomb_100mp_png", "truncated_jpeg", "png_html_polyglot", "eps", "zero_bytes"])
def test_the_service_refuses_hostile_uploads_for_every_caller(hostile_corpus, name, media_root):
    data, phrase = hostile_corpus[name]
    with pytest.raises(images.InvalidImage) as refused:
        services.save_product_image(image=ProductImage(product=ProductFactory()),
                                    upload=ContentFile(data, name=f"{name}.png"))
    assert phrase.lower() in refused.value.reason.lower()
    assert not ProductImage.objects.exists()
    assert not (media_root / "products").exists()


@pytest.mark.django_db
def test_editing_alt_text_keeps_renditions_but_a_new_file_resets_them(luma_photos, jobs_run_here,
                                                                      django_capture_on_commit_callbacks):
    product = ProductFactory()
    with django_capture_on_commit_callbacks(execute=True):
        image = services.save_product_image(image=ProductImage(product=product),
                                            upload=ContentFile(luma_photos[0].read_bytes(), name="a.jpg"))
    image.refresh_from_db()
    old = {r.file.name for r in image.renditions.all()}
    image.alt_text, image.variant = "New words", VariantFactory(product=product)
    jobs_before = list(jobs_run_here)
    with django_capture_on_commit_callbacks(execute=True):
        services.save_product_image(image=image)
    assert jobs_run_here == jobs_before  # no job for a text edit (only the page cache hears of it)
    assert image.renditions.count() == 6 and ProductImage.objects.get().is_ready

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.save_product_image(image=image, upload=ContentFile(luma_photos[1].read_bytes(), name="b.jpg"))
    image.refresh_from_db()
    assert image.status == ProductImage.Status.PENDING and not image.lqip and image.renditions.count() == 0
    assert len(callbacks) == 3  # delete the old files, send the job, drop the cached pages
    for callback in callbacks:
        callback()
    image.refresh_from_db()
    assert image.is_ready and {r.file.name for r in image.renditions.all()}.isdisjoint(old)


def test_camera_trailers_are_allowed_but_markup_after_the_end_is_not():
    main = encode(Image.new("RGB", (400, 300), "olive"), "JPEG")
    gain_map = encode(Image.new("L", (100, 75), 128), "JPEG", comment=b"gain map")
    assert images.check_image(main + gain_map, max_bytes=MAX_BYTES).width == 400  # MPF / Ultra HDR style
    with pytest.raises(images.InvalidImage, match="polyglot"):
        images.check_image(main + gain_map + b"<script>alert(1)</script>", max_bytes=MAX_BYTES)
    with pytest.raises(images.InvalidImage, match="polyglot"):
        images.check_image(main + encode(Image.new("L", (8, 8)), "JPEG", comment=b"<html>"), max_bytes=MAX_BYTES)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "GIF", "WEBP"])
def test_damaged_files_only_ever_raise_invalid_image(fmt):
    """Random byte damage and cuts: each file is either accepted or refused with InvalidImage,
    never another exception, and quickly."""
    import random

    source = encode(Image.linear_gradient("L").convert("RGB").resize((120, 90)), fmt)
    rng = random.Random(f"damage-{fmt}")
    for _ in range(150):
        data = bytearray(source)
        for _ in range(rng.randint(1, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if rng.random() < 0.3:
            data = data[: rng.randrange(1, len(data))]
        started = time.monotonic()
        try:
            images.render(bytes(data), max_bytes=MAX_BYTES)
        except images.InvalidImage:
            pass
        assert time.monotonic() - started < BOUND
