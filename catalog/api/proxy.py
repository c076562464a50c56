"""GET /api/v1/images/proxy?url=...&width=...&height=...: an external image, resized, re-encoded, cached.

The guarded fetch is `catalog.safe_fetch.fetch_image`. The result is stored in `default_storage` under
a name derived from sha256(url, width, height, format). A later request for the same rendition is
served from there without fetching. Responses carry long-lived cache headers and a content ETag.
Every error is the API's JSON shape, with a 400 status: a refused or failed fetch
(code "fetch_refused") and an image Pillow will not decode safely (code "invalid_image").
"""
from __future__ import annotations

import hashlib
import json
import logging
import warnings
from io import BytesIO

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils.http import parse_etags
from PIL import Image, ImageOps
from rest_framework import permissions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.safe_fetch import FetchRefused, fetch_image

logger = logging.getLogger(__name__)

MAX_SIDE = 2000
MAX_PIXELS = 40_000_000  # a bigger source is refused before it is decoded (decompression bombs)
PIL_FORMATS = ["JPEG", "PNG", "WEBP", "GIF"]
STORAGE_PREFIX = "image-proxy"
CACHE_CONTROL = "public, max-age=31536000, immutable"


class InvalidImage(ValueError):
    """The fetched bytes are not an image we will decode (bomb, truncated, corrupt, unsupported)."""


class ProxyQuery(serializers.Serializer):
    url = serializers.CharField(max_length=2048, help_text="http(s) URL of an image on an allowed host.")
    width = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE,
                                     help_text="Fit within this width in pixels (never upscaled).")
    height = serializers.IntegerField(required=False, min_value=1, max_value=MAX_SIDE,
                                      help_text="Fit within this height in pixels (never upscaled).")


class JSONWhateverAccept(BaseContentNegotiation):
    """Errors are JSON even when Accept names only image types (images bypass the renderers)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ImageProxyView(APIView):
    """The image at `url`, fitted within width x height, as WebP (JPEG if Accept lacks image/webp)."""

    permission_classes = [permissions.AllowAny]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = JSONWhateverAccept

    def get(self, request: Request) -> HttpResponse:
        query = ProxyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = "webp" if "image/webp" in request.headers.get("Accept", "").lower() else "jpeg"
        try:
            data = proxied_image(fmt=fmt, **query.validated_data)
        except FetchRefused as refusal:
            return _error(refusal.reason, "fetch_refused")
        except InvalidImage as error:
            return _error(str(error), "invalid_image")
        return _image_response(request, data, f"image/{fmt}")


def proxied_image(*, url: str, width: int | None = None, height: int | None = None, fmt: str) -> bytes:
    """The rendition from storage, or fetched, resized and stored. Raises FetchRefused, InvalidImage."""
    name = storage_name(url=url, width=width, height=height, fmt=fmt)
    if default_storage.exists(name):
        with default_storage.open(name, "rb") as stored:
            return stored.read()
    fetched = fetch_image(url, max_bytes=settings.SHOP_IMAGE_MAX_BYTES, timeout=settings.SHOP_IMAGE_FETCH_TIMEOUT,
                          allowed_hosts=settings.SHOP_IMAGE_PROXY_ALLOWED_HOSTS)
    data = resize_and_encode(fetched.content, width=width, height=height, fmt=fmt)
    if not default_storage.exists(name):  # a concurrent request may have stored it meanwhile
        default_storage.save(name, ContentFile(data))
    return data


def storage_name(*, url: str, width: int | None, height: int | None, fmt: str) -> str:
    """Where a rendition lives in storage: image-proxy/ab/<sha256 of url, width, height, format>.<ext>."""
    digest = hashlib.sha256(json.dumps([url, width, height, fmt]).encode()).hexdigest()
    return f"{STORAGE_PREFIX}/{digest[:2]}/{digest}.{'jpg' if fmt == 'jpeg' else fmt}"


def resize_and_encode(content: bytes, *, width: int | None, height: int | None, fmt: str) -> bytes:
    """Open safely, fit within width x height (never upscale), strip metadata, encode. Raises InvalidImage.

    A small local version of the rendition pipeline's resize, kept here so that the proxy stands alone.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)  # over Pillow's own limit
            probe = Image.open(BytesIO(content), formats=PIL_FORMATS)
        with probe:
            if probe.width * probe.height > MAX_PIXELS:
                raise InvalidImage(f"the image is {probe.width}x{probe.height} pixels, over the "
                                   f"{MAX_PIXELS // 1_000_000} megapixel limit")
            probe.verify()
        with Image.open(BytesIO(content), formats=PIL_FORMATS) as source:
            if source.format == "JPEG" and (width or height):
                side = max(width or 0, height or 0)
                source.draft("RGB", (side, side))  # shrink on load; still at least `side` both ways
            image = ImageOps.exif_transpose(source)  # keep the orientation, drop the tag
            image = _flatten(image, keep_alpha=fmt == "webp")
            image.thumbnail((width or image.width, height or image.height), Image.Resampling.LANCZOS)
            image.info = {}  # no EXIF, ICC, XMP or comment is carried into the output
            out = BytesIO()
            if fmt == "webp":
                image.save(out, "WEBP", quality=80, method=4)
            else:
                image.save(out, "JPEG", quality=82, optimize=True, progressive=True)
            return out.getvalue()
    except InvalidImage:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise InvalidImage(f"the image has more than {MAX_PIXELS // 1_000_000} megapixels") from None
    except Image.UnidentifiedImageError:
        raise InvalidImage("the body is not a JPEG, PNG, WebP or GIF image that can be read") from None
    except Exception as error:  # Pillow raises many kinds on hostile input; none may become a 500
        logger.info("image proxy: undecodable image: %r", error)
        raise InvalidImage("the image is damaged or truncated") from None


def _flatten(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """RGB, or RGBA where the image has transparency and the format keeps it (else on white)."""
    if image.mode.startswith("I") or image.mode == "F":  # 16/32-bit grey: scale to 8 bits, do not clip
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    has_alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    rgba = image.convert("RGBA")
    if keep_alpha:
        return rgba
    background = Image.new("RGB", rgba.size, (255, 255, 255))
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def _image_response(request: Request, data: bytes, content_type: str) -> HttpResponse:
    """The bytes with an ETag and year-long immutable caching; 304 when the client has them."""
    etag = f'"{hashlib.sha256(data).hexdigest()[:32]}"'
    matches = parse_etags(request.headers.get("If-None-Match", ""))
    response = HttpResponse(status=304) if etag in matches or "*" in matches else HttpResponse(
        data, content_type=content_type)
    response["ETag"] = etag
    response["Cache-Control"] = CACHE_CONTROL
    response["Vary"] = "Accept"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _error(reason: str, code: str) -> Response:
    return Response({"detail": reason, "code": code, "fields": {"url": [reason]}}, status=400)
