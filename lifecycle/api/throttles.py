"""The API's rate limits: a constant-cost one for telemetry, DRF's for sensitive actions,
both failing open when the cache is down (``core.resilience``)."""

from __future__ import annotations

import time

from django.core.exceptions import ImproperlyConfigured
from rest_framework.settings import api_settings
from rest_framework.throttling import ScopedRateThrottle

from core.resilience import cache_fails_open


class FailOpenThrottle(ScopedRateThrottle):
    """A scoped throttle that lets the request through when the cache cannot be reached:
    an API that answers 500 to every call while Redis is down protects nothing."""

    def allow_request(self, request, view) -> bool:
        allowed = True
        with cache_fails_open("api_throttle"):
            allowed = self.check_and_count(request, view)
        return allowed

    def check_and_count(self, request, view) -> bool:
        """Count this request and say whether it is within the rate (reads the cache)."""
        return super().allow_request(request, view)


class SensitiveThrottle(FailOpenThrottle):
    """DRF's history-based limit for rare, sensitive actions (rotating a secret)."""

    scope_attr = "sensitive_scope"


class WindowRateThrottle(FailOpenThrottle):
    """``ScopedRateThrottle`` with a fixed window counter instead of a request history.

    DRF's throttles keep a list of timestamps per client and pickle it on every request;
    at the telemetry rate (thousands a minute per sender) that list costs more than the
    request. A per-window counter (``cache.add`` + ``cache.incr``) costs the same at any
    rate; the price is that a burst may straddle two windows.
    """

    def get_rate(self) -> str | None:
        # DRF reads the rates once, at import; read them per request so a changed
        # REST_FRAMEWORK setting (tests, a reload) takes effect.
        try:
            return api_settings.DEFAULT_THROTTLE_RATES[self.scope]
        except KeyError:
            raise ImproperlyConfigured(f"No throttle rate set for scope {self.scope!r}.") from None

    def check_and_count(self, request, view) -> bool:
        self.scope = getattr(view, self.scope_attr, None)
        if not self.scope:
            return True
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        ident = self.get_ident(request)
        self.window = int(time.time() // self.duration)
        self.key = f"throttle_window_{self.scope}_{ident}_{self.window}"
        self.cache.add(self.key, 0, self.duration + 1)
        try:
            count = self.cache.incr(self.key)
        except ValueError:  # evicted between add and incr: start over
            self.cache.set(self.key, 1, self.duration + 1)
            count = 1
        return count <= self.num_requests

    def wait(self) -> float:
        return max(0.0, (self.window + 1) * self.duration - time.time())
