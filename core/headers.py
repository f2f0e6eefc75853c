"""Browser-facing security headers: a Content-Security-Policy and a Permissions-Policy on
every response Django answers (pages, API JSON, errors, and static files when whitenoise
serves them).

The policies are settings (``APPKEEPER_CSP``, ``APPKEEPER_PERMISSIONS_POLICY``), so an
operator can tighten them without code. ``APPKEEPER_CSP_PATH_OVERRIDES`` relaxes single
directives below a path prefix, for third-party pages we do not render ourselves (the
Swagger UI and DRF's browsable API set style attributes); the longest matching prefix
wins and replaces only the directives it names. A response that already carries a header
(a view that knows better) keeps its own. See docs/operations.md, "Security headers".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from django.conf import settings
from django.http import HttpRequest, HttpResponse

CSP_HEADER = "Content-Security-Policy"
PERMISSIONS_HEADER = "Permissions-Policy"


def render_csp(policy: Mapping[str, Sequence[str]]) -> str:
    """``{"script-src": ["'self'"]}`` -> ``script-src 'self'``; a directive with no
    sources (``upgrade-insecure-requests``) is written bare."""
    parts = []
    for directive, sources in policy.items():
        parts.append(" ".join([directive, *sources]) if sources else directive)
    return "; ".join(parts)


def render_permissions_policy(policy: Mapping[str, Sequence[str]]) -> str:
    """``{"camera": [], "fullscreen": ["self"]}`` -> ``camera=(), fullscreen=(self)``."""
    return ", ".join(f"{feature}=({' '.join(allow)})" for feature, allow in policy.items())


class SecurityHeadersMiddleware:
    """Add the policies, rendered once per process (and once per override prefix)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        base: dict[str, Sequence[str]] = dict(settings.APPKEEPER_CSP)
        self.csp = render_csp(base)
        overrides: Mapping[str, Mapping[str, Sequence[str]]] = settings.APPKEEPER_CSP_PATH_OVERRIDES
        # Longest prefix first, so /api/docs/ can say more than /api/.
        self.overrides = [
            (prefix, render_csp({**base, **overrides[prefix]}))
            for prefix in sorted(overrides, key=len, reverse=True)
        ]
        self.permissions = render_permissions_policy(settings.APPKEEPER_PERMISSIONS_POLICY)

    def policy_for(self, path: str) -> str:
        for prefix, policy in self.overrides:
            if path.startswith(prefix):
                return policy
        return self.csp

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if CSP_HEADER not in response:
            response[CSP_HEADER] = self.policy_for(request.path)
        if PERMISSIONS_HEADER not in response and self.permissions:
            response[PERMISSIONS_HEADER] = self.permissions
        return response
