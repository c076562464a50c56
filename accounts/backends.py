"""Login lockout (django-axes) for every way in: the HTML login, the admin login and the API
token endpoint. After settings.AXES_FAILURE_LIMIT failed attempts for one email from one client
IP, that pair is refused until settings.AXES_COOLOFF_TIME has passed (see shop/settings.py).
"""
from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off, get_failure_limit
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

LOCKED_OUT_CODE = "locked_out"


class LockoutBackend(AxesStandaloneBackend):
    """Axes' check, first in AUTHENTICATION_BACKENDS. It refuses a locked-out email and IP.

    Without a request there is no client to count failures for (Django's test client `login()`,
    shell scripts), so the check is left to the views, which always pass the request.
    """

    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def login_username(request: HttpRequest, credentials: dict | None) -> str | None:
    """The email a login attempt names, lower-cased: the HTML and admin forms send `username`, the
    API token endpoint `email` (AXES_USERNAME_CALLABLE)."""
    for source in (credentials or {}, getattr(request, "data", None) or {}, getattr(request, "POST", {})):
        try:
            value = source.get("username") or source.get("email")
        except AttributeError:
            continue
        if isinstance(value, str) and value:
            return value.strip().lower()
    return None


def lockout_message() -> str:
    minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
    return (f"Too many failed log-in attempts: this account is locked here for {minutes} minutes. "
            "Try again later or reset your password.")


def lockout_response(request: HttpRequest, original_response=None, credentials=None) -> HttpResponse:
    """429 for a locked-out attempt (AXES_LOCKOUT_CALLABLE): the API's JSON error shape under
    /api/, the shop's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": lockout_message(), "code": LOCKED_OUT_CODE, "fields": {}}, status=429)
    cool_off = get_cool_off(request)
    return render(request, "registration/locked_out.html", {
        "failure_limit": get_failure_limit(request, credentials),
        "minutes": int(cool_off.total_seconds() // 60) if cool_off else 0,
    }, status=429)
