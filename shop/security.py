"""Request hardening that Django's settings do not cover on their own."""
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse


def max_request_bytes() -> int:
    """The largest request body accepted (bytes): settings.SHOP_MAX_REQUEST_BYTES."""
    return settings.SHOP_MAX_REQUEST_BYTES


class RequestSizeLimitMiddleware:
    """Answer 413 to a request whose declared body (Content-Length) is larger than
    settings.SHOP_MAX_REQUEST_BYTES, before anything reads it.

    Django's DATA_UPLOAD_MAX_MEMORY_SIZE caps form fields but not uploaded files, so without this a
    multipart upload could fill the disk with temporary files. nginx's client_max_body_size is the
    first line; this one holds where Django is reached directly.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return HttpResponse("Bad Content-Length.\n", status=400, content_type="text/plain")
        limit = max_request_bytes()
        if length > limit:
            return HttpResponse(
                f"The request body is {length} bytes; the largest accepted is {limit} bytes.\n",
                status=413, content_type="text/plain",
            )
        return self.get_response(request)
