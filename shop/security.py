"""Request hardening that Django's settings do not cover on their own.

Hostile input gets a clean 4xx and one log line without a traceback, never a 500 (issue 21):
- RequestSizeLimitMiddleware: 413 for a body declared larger than SHOP_MAX_REQUEST_BYTES.
- HostileInputMiddleware: 414 for a URL longer than SHOP_MAX_URI_BYTES (gunicorn's request line
  limit, so that daphne and runserver answer as production does, and a login redirect carrying the
  URL never exceeds Django's redirect limit); 400 for a NUL byte anywhere in the path, the query string or a form
  (PostgreSQL cannot store NUL, so every view would 500 on it); 413 for form fields over
  DATA_UPLOAD_MAX_MEMORY_SIZE, 400 for too many fields or a broken multipart body. The rest of an
  unread body is drained first, so that gunicorn does not close the connection under nginx while
  nginx is still sending (which nginx answers with 502). A cookie holding NUL is dropped.
- loads_json / check_json: JSON from a client (API bodies via shop.api_base.JSONParser, WebSocket
  frames, cursors) nested deeper than SHOP_JSON_MAX_DEPTH, or with NUL or a lone surrogate in a
  string, is refused with ValueError (Python's parser raises RecursionError past ~1000 levels, and
  the data would break PostgreSQL, or recursive code, further on).
"""
import json
import logging
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError

logger = logging.getLogger(__name__)


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


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
DRAIN_CHUNK = 64 * 1024  # bytes read at a time from an unread body


def refuse(request: HttpRequest, status: int, message: str) -> HttpResponse:
    """A 4xx for hostile input: the API's JSON error shape under /api/, plain text elsewhere,
    after draining what is left of the body. Logged as one warning line, without a traceback."""
    logger.warning("Refused %s %s with %d: %s", request.method, request.path[:200].encode("unicode_escape").decode(),
                   status, message)
    try:
        while request.read(DRAIN_CHUNK):
            pass
    except Exception:  # noqa: BLE001 - a body already read (or a broken stream) has nothing left to drain
        pass
    if request.path.startswith("/api/"):
        code = {413: "too_large", 414: "uri_too_long"}.get(status, "invalid")
        return JsonResponse({"detail": message, "code": code, "fields": {}}, status=status)
    return HttpResponse(message + "\n", status=status, content_type="text/plain; charset=utf-8")


def _has_nul(values) -> str | None:
    """The first key or value of a QueryDict (or MultiValueDict of files) holding NUL, else None."""
    for key, items in values.lists():
        if "\x00" in key:
            return key.replace("\x00", "\\x00")
        for item in items:
            if "\x00" in (item if isinstance(item, str) else (getattr(item, "name", "") or "")):
                return key
    return None


class HostileInputMiddleware:
    """Refuse, once for every view, the input no view can handle (see the module docstring).

    Placed right after RequestSizeLimitMiddleware, before the page cache, sessions and CSRF, so a
    form is parsed here first: what a view reads later is the same request.POST."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        uri_bytes = len(request.get_full_path().encode())
        if uri_bytes > settings.SHOP_MAX_URI_BYTES:
            return refuse(request, 414, f"The URL is {uri_bytes} bytes long; the longest accepted is "
                                        f"{settings.SHOP_MAX_URI_BYTES} bytes.")
        if "\x00" in request.path:
            return refuse(request, 400, "The URL path contains a NUL character.")
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            return refuse(request, 400, f"The query parameter {_has_nul(request.GET) or '?'} contains a NUL character.")
        for name in [name for name, value in request.COOKIES.items() if "\x00" in name or "\x00" in value]:
            del request.COOKIES[name]  # never a valid session or CSRF cookie
        if request.method == "POST" and request.content_type in FORM_TYPES:
            try:
                field = _has_nul(request.POST) or _has_nul(request.FILES)
            except RequestDataTooBig:
                limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
                return refuse(request, 413, f"The form's fields are larger than {limit} bytes in all.")
            except (TooManyFieldsSent, TooManyFilesSent):
                return refuse(request, 400, "The form has too many fields or files.")
            except MultiPartParserError as error:
                return refuse(request, 400, f"The form could not be read: {error}")
            if field is not None:
                return refuse(request, 400, f"The form field {field} contains a NUL character.")
        return self.get_response(request)


def check_json(value, *, max_depth: int | None = None) -> None:
    """Raise ValueError if the parsed JSON `value` nests deeper than `max_depth` (default
    settings.SHOP_JSON_MAX_DEPTH) or holds a string (value or key) with NUL or a lone surrogate.
    Iterative, so no depth makes it recurse."""
    max_depth = settings.SHOP_JSON_MAX_DEPTH if max_depth is None else max_depth
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                raise ValueError(f"JSON nested deeper than {max_depth} levels")
            if isinstance(item, dict):
                stack.extend((key, depth) for key in item)
                stack.extend((inner, depth + 1) for inner in item.values())
            else:
                stack.extend((inner, depth + 1) for inner in item)
        elif isinstance(item, str):
            if "\x00" in item:
                raise ValueError("JSON string contains a NUL character")
            if not item.isascii():
                try:
                    item.encode("utf-8")
                except UnicodeEncodeError:
                    raise ValueError("JSON string contains a lone surrogate (not valid Unicode)") from None


def loads_json(text: str | bytes, *, max_depth: int | None = None):
    """json.loads, but ValueError (never RecursionError) for JSON nested too deeply, and
    check_json's refusals. Returns the parsed value."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    check_json(value, max_depth=max_depth)
    return value
