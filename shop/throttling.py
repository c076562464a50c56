"""API throttles whose rates are read from settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] on
every request (DRF's own classes copy them once at import), so that a settings change, such as a
test's override, applies at once. Rates look like "120/minute"; keys are per client IP for
anonymous callers and per user otherwise. The client IP is shop.observability.client_address
(X-Forwarded-For from trusted proxies only), never DRF's own reading of the headers."""
from django.conf import settings
from rest_framework import throttling

from shop.observability import client_address


def _rates() -> dict:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})


class ClientAddressMixin:
    """Identify an anonymous caller by shop.observability.client_address."""

    def get_ident(self, request) -> str:
        return client_address(request)


class AnonThrottle(ClientAddressMixin, throttling.AnonRateThrottle):
    """Anonymous callers, per client IP: the "anon" rate."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (DRF's attribute name)
        return _rates()


class UserThrottle(ClientAddressMixin, throttling.UserRateThrottle):
    """Logged-in callers, per user: the "user" rate."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802
        return _rates()


class AuthThrottle(ClientAddressMixin, throttling.SimpleRateThrottle):
    """Register, token and refresh, per client IP whoever is logged in: the stricter "auth" rate."""

    scope = "auth"

    @property
    def THROTTLE_RATES(self):  # noqa: N802
        return _rates()

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
