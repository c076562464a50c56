"""API throttles whose rates are read from settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"] on
every request (DRF's own classes copy them once at import), so that a settings change, such as a
test's override, applies at once. Rates look like "120/minute"; keys are per client IP for
anonymous callers and per user otherwise. The client IP is shop.observability.client_address
(X-Forwarded-For from trusted proxies only), never DRF's own reading of the headers.

Each throttle counts in a window rather than keeping DRF's list of every request's time (WindowCounter)."""
from django.conf import settings
from rest_framework import throttling

from shop.observability import client_address


def _rates() -> dict:
    return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {})


class WindowCounter:
    """A throttle's count as one counter per caller and window: the window opens at the caller's
    first request and closes `duration` seconds later, and at most `num_requests` pass in it.
    DRF's own SimpleRateThrottle reads and writes the list of every request's time in the window
    on each request, a cost that grows with the rate (600 floats at 600/minute; 1.2 ms of the
    recommendations API's 2.8 ms CPU a request under wrk, benchmarks/README.md): this is
    cache.add + cache.incr of one integer. Retry-After is the whole window (the cache has no public
    way to read what is left of it). With the cache down the counter gives 1: nobody is refused."""

    def allow_request(self, request, view) -> bool:
        if self.rate is None:
            return True
        self.key = self.get_cache_key(request, view)
        if self.key is None:
            return True
        self.cache.add(self.key, 0, self.duration)
        try:
            count = self.cache.incr(self.key)
        except ValueError:  # the window closed between the two calls: a new one opens
            self.cache.add(self.key, 1, self.duration)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        """Seconds until the caller may try again: at most the window (see the class)."""
        return float(self.duration)


class ClientAddressMixin:
    """Identify an anonymous caller by shop.observability.client_address."""

    def get_ident(self, request) -> str:
        return client_address(request)


class AnonThrottle(WindowCounter, ClientAddressMixin, throttling.AnonRateThrottle):
    """Anonymous callers, per client IP: the "anon" rate."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802 (DRF's attribute name)
        return _rates()


class UserThrottle(WindowCounter, ClientAddressMixin, throttling.UserRateThrottle):
    """Logged-in callers, per user: the "user" rate."""

    @property
    def THROTTLE_RATES(self):  # noqa: N802
        return _rates()


class AuthThrottle(WindowCounter, ClientAddressMixin, throttling.SimpleRateThrottle):
    """Register, token and refresh, per client IP whoever is logged in: the stricter "auth" rate."""

    scope = "auth"

    @property
    def THROTTLE_RATES(self):  # noqa: N802
        return _rates()

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
