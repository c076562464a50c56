"""GET /api/v1/images/proxy?url=...&width=...&height=...: an external image, resized, re-encoded, cached.

The guarded fetch is `catalog.images.safe_fetch.fetch_image`. The result is stored in `default_storage` under
a name derived from sha256(url, width, height, format). A later request for the same rendition is
served from there without fetching. Responses carry long-lived cache headers and a content ETag.
Every error is the API's JSON shape, with a 400 status: a refused or failed fetch
(code "fetch_refused") and an image `catalog.images` refuses (code "invalid_image"; the same checks as
an upload: formats, decompression bombs, truncation, polyglots). The resize is `catalog.images.fit`.
"""
from __future__ import annotations

import hashlib
import json
import logging

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import HttpResponse
from django.utils.http import parse_etags
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import images
from catalog.images import InvalidImage
from catalog.images.safe_fetch import FetchRefused, fetch_image
from shop.api_base import error_responses

logger = logging.getLogger(__name__)

MAX_SIDE = 2000
STORAGE_PREFIX = "image-proxy"
CACHE_CONTROL = "public, max-age=31536000, immutable"


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

    @extend_schema(parameters=[ProxyQuery], operation_id="images_proxy", tags=["catalogue"], responses={
        (200, "image/webp"): OpenApiResponse(OpenApiTypes.BINARY, description="The image, resized"),
        (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY, description="The image, resized"),
        (304, "application/json"): OpenApiResponse(description="Not modified (If-None-Match)"),
        **{(status, "application/json"): response for status, response in error_responses(400, 429).items()},
    })
    def get(self, request: Request) -> HttpResponse:
        query = ProxyQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt = "webp" if "image/webp" in request.headers.get("Accept", "").lower() else "jpeg"
        try:
            data = proxied_image(fmt=fmt, **query.validated_data)
        except FetchRefused as refusal:
            return _error(refusal.reason, "fetch_refused")
        except InvalidImage as error:
            return _error(error.reason, "invalid_image")
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
    """Fit within width x height (never upscaled) and encode as `fmt` ("webp" or "jpeg") with
    `catalog.images.fit`, the rendition pipeline's own checks, resize and encoder: metadata
    stripped, orientation applied, sRGB. Raises InvalidImage."""
    try:
        return images.fit(content, width=width, height=height, format=fmt,
                          max_bytes=settings.SHOP_IMAGE_MAX_BYTES).data
    except InvalidImage:
        raise
    except Exception as error:  # Pillow raises many kinds on hostile input; none may become a 500
        logger.info("image proxy: undecodable image: %r", error)
        raise InvalidImage("The image is damaged or truncated.") from None


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
