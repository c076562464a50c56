"""Request hardening that Django's settings do not cover on their own."""
import secrets
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


def new_csrf_string() -> str:
    """A new CSRF secret or mask, as django.middleware.csrf._get_new_csrf_string makes one:
    CSRF_SECRET_LENGTH (32) characters drawn uniformly and independently from CSRF_ALLOWED_CHARS
    (the 62 ASCII letters and digits), from the operating system's CSPRNG (`secrets`).

    Django's get_random_string draws each character with secrets.choice, one os.urandom call per
    character: 64 system calls for every page that carries a CSRF token (a secret and a mask),
    about 0.1 ms, a third of what a cached product page costs. This reads the bytes in one call.
    A byte b < 248 (62 x 4) gives the character CSRF_ALLOWED_CHARS[b % 62], each equally likely;
    larger bytes are dropped (rejection sampling), so there is no modulo bias. Installed by
    shop.apps.ShopConfig.ready() (Django 5.2 calls the function by name from get_token and
    _mask_cipher_secret; shop/tests/test_security.py checks that it is the one in use)."""
    from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

    alphabet, drawn = CSRF_ALLOWED_CHARS, []
    limit = 256 - 256 % len(alphabet)
    while len(drawn) < CSRF_SECRET_LENGTH:
        drawn += [alphabet[byte % len(alphabet)] for byte in secrets.token_bytes(CSRF_SECRET_LENGTH + 8)
                  if byte < limit]
    return "".join(drawn[:CSRF_SECRET_LENGTH])
