"""GET /api/v1/images/proxy through DRF's APIClient, against the local stand-in image host."""
import struct
import zlib
from io import BytesIO

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse
from PIL import Image
from rest_framework.test import APIClient

from catalog.images.proxy import resize_and_encode, storage_name
from catalog.tests.test_safe_fetch import STAND_IN, image_bytes, public, send, victim  # noqa: F401 (fixtures)

WEBP_FIRST = "image/avif,image/webp,image/apng,image/*,*/*;q=0.8"  # what browsers send for <img>


@pytest.fixture
def api():
    return APIClient()


@pytest.fixture(autouse=True)
def proxy_settings(settings):
    settings.SHOP_IMAGE_PROXY_ALLOWED_HOSTS = [STAND_IN, "127.0.0.1"]
    settings.SHOP_IMAGE_FETCH_TIMEOUT = 3.0
    settings.SHOP_IMAGE_MAX_BYTES = 1_000_000


def get(api, accept=WEBP_FIRST, **params):
    return api.get(reverse("image-proxy"), params, HTTP_ACCEPT=accept)


def photo_with_metadata(size=(800, 600)) -> bytes:
    """A JPEG with EXIF (camera, GPS-ish tag) and a comment, which must not survive the proxy."""
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0131] = "secret-software"  # Software
    return image_bytes("JPEG", size=size, exif=exif.tobytes(), comment=b"private note")


def test_resizes_to_webp_with_long_cache_headers_then_serves_from_storage(api, public):
    public.routes["/photo.jpg"] = send(body=photo_with_metadata(), content_type="image/jpeg")
    url = f"{public.url}/photo.jpg"

    first = get(api, url=url, width=200, height=200)
    assert first.status_code == 200
    assert first["Content-Type"] == "image/webp"
    assert first["Cache-Control"] == "public, max-age=31536000, immutable"
    assert first["ETag"].startswith('"') and "Accept" in first["Vary"]
    out = Image.open(BytesIO(first.content))
    assert (out.format, out.size) == ("WEBP", (200, 150))  # fits 200x200, keeps 4:3
    assert not out.info.get("exif") and not out.getexif() and "icc_profile" not in out.info
    assert default_storage.exists(storage_name(url=url, width=200, height=200, fmt="webp"))

    second = get(api, accept="image/webp", url=url, width=200, height=200)  # no */*: still no 406
    assert second.status_code == 200
    assert second.content == first.content and second["ETag"] == first["ETag"]
    assert public.hits == ["/photo.jpg"]  # the second answer came from storage


def test_jpeg_when_accept_lacks_webp_without_metadata(api, public):
    public.routes["/photo.jpg"] = send(body=photo_with_metadata(), content_type="image/jpeg")
    response = get(api, accept="image/jpeg,image/*", url=f"{public.url}/photo.jpg", width=100)
    assert response.status_code == 200 and response["Content-Type"] == "image/jpeg"
    out = Image.open(BytesIO(response.content))
    assert (out.format, out.size) == ("JPEG", (100, 75))
    assert not out.getexif() and "comment" not in out.info and "exif" not in out.info


def test_transparent_png_becomes_jpeg_on_white_or_webp_with_alpha(api, public):
    public.routes["/logo.png"] = send(body=image_bytes("PNG", size=(60, 40), mode="RGBA"))
    url = f"{public.url}/logo.png"
    as_jpeg = Image.open(BytesIO(get(api, accept="image/jpeg", url=url).content))
    as_webp = Image.open(BytesIO(get(api, url=url).content))
    assert as_jpeg.mode == "RGB" and as_webp.mode == "RGBA"
    assert public.hits == ["/logo.png", "/logo.png"]  # one rendition per format


def test_never_upscales(api, public):
    public.routes["/small.gif"] = send(body=image_bytes("GIF", size=(80, 60)), content_type="image/gif")
    response = get(api, url=f"{public.url}/small.gif", width=2000, height=2000)
    assert Image.open(BytesIO(response.content)).size == (80, 60)


def test_if_none_match_gets_304(api, public):
    public.routes["/photo.png"] = send(body=image_bytes("PNG"))
    url = f"{public.url}/photo.png"
    etag = get(api, url=url)["ETag"]
    response = api.get(reverse("image-proxy"), {"url": url}, HTTP_ACCEPT=WEBP_FIRST, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"


A_URL = "http://img.test/a.png"


@pytest.mark.parametrize("params, field", [
    ({}, "url"), ({"width": 10}, "url"), ({"url": A_URL, "width": 0}, "width"),
    ({"url": A_URL, "width": 2001}, "width"),
    ({"url": A_URL, "width": "wide"}, "width"), ({"url": A_URL, "width": "1.5"}, "width"),
    ({"url": A_URL, "height": -1}, "height"), ({"url": A_URL, "height": 2001}, "height"),
    ({"url": "http://img.test/" + "a" * 2100}, "url")])
def test_bad_parameters_get_a_json_400_naming_the_field(api, params, field):
    response = get(api, accept="image/webp", **params)
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "invalid" and field in body["fields"] and body["detail"]


@pytest.mark.parametrize("url", ["http://evil.test/a.png", "ftp://img.test/a.png", "file:///etc/passwd",
                                 "http://2130706433/a.png", "not a url"])
def test_refused_fetches_are_a_json_400_on_the_url_field(api, url):
    response = get(api, url=url)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    body = response.json()
    assert body["code"] == "fetch_refused" and body["fields"] == {"url": [body["detail"]]}


def test_loopback_is_refused_and_never_reached(api, victim):
    response = get(api, url=f"http://127.0.0.1:{victim.port}/secret.png", width=10)
    assert response.status_code == 400 and "not a public address" in response.json()["detail"]
    assert victim.hits == []


def png_header(width: int, height: int) -> bytes:
    """A few hundred bytes claiming width x height pixels: a decompression bomb's header."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 4096)) + chunk(b"IEND", b""))


@pytest.mark.parametrize("body, content_type", [
    (png_header(8000, 8000), "image/png"),       # 64 MP: over our 40 MP limit
    (png_header(20000, 20000), "image/png"),     # 400 MP: Pillow's own bomb error
    (image_bytes("JPEG", size=(300, 200))[:400], "image/jpeg"),  # truncated
    (image_bytes("PNG")[:8] + b"<html><script>alert(1)</script></html>", "image/png"),  # PNG magic, HTML body
], ids=["64MP-bomb", "400MP-bomb", "truncated-jpeg", "png-magic-html"])
def test_bad_images_are_a_json_400_not_a_500(api, public, body, content_type):
    public.routes["/bad"] = send(body=body, content_type=content_type)
    response = get(api, url=f"{public.url}/bad", width=100)
    assert response.status_code == 400 and response["Content-Type"] == "application/json"
    assert response.json()["code"] == "invalid_image"
    assert not default_storage.exists(storage_name(url=f"{public.url}/bad", width=100, height=None, fmt="webp"))


def test_html_served_as_png_is_refused(api, public):
    public.routes["/fake.png"] = send(body=b"<!doctype html><h1>hi</h1>", content_type="image/png")
    response = get(api, url=f"{public.url}/fake.png")
    assert response.status_code == 400 and response.json()["code"] == "fetch_refused"


@pytest.mark.parametrize("mode, fmt, grey", [("I;16", "PNG", 40000), ("CMYK", "JPEG", None), ("P", "GIF", None),
                                             ("LA", "PNG", None), ("1", "PNG", None), ("L", "WEBP", None)])
def test_unusual_colour_modes_encode_in_both_formats(mode, fmt, grey):
    source = BytesIO()
    Image.new(mode, (300, 200), grey).save(source, fmt)
    for out_format, pillow_name in (("webp", "WEBP"), ("jpeg", "JPEG")):
        out = Image.open(BytesIO(resize_and_encode(source.getvalue(), width=100, height=None, fmt=out_format)))
        assert (out.format, out.size) == (pillow_name, (100, 67))
        if grey:  # 16-bit grey is scaled to 8 bits, not clipped to white
            assert out.convert("L").getpixel((5, 5)) == pytest.approx(grey / 256, abs=2)
