"""The two legs of the code flow: off to the provider, and back with a code.

mozilla-django-oidc's views, made to fail politely: every way a sign-in can go wrong (no
provider configured, the provider unreachable, a state already used, a token that does not
verify, a refused account) lands back on the sign-in page with a sentence saying what
happened, never on an error page.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.views.generic import View
from mozilla_django_oidc.views import OIDCAuthenticationCallbackView, OIDCAuthenticationRequestView

from identity.discovery import ProviderUnavailable, provider
from identity.oidc import provider_name


def back_to_sign_in(request, message: str, next_url: str | None = None) -> HttpResponseRedirect:
    messages.error(request, message)
    url = reverse("login")
    if next_url:
        url += "?" + urlencode({"next": next_url})
    return HttpResponseRedirect(url)


NOT_CONFIGURED = "Single sign-on is not configured here; sign in with your password."


class SignInWithProviderView(OIDCAuthenticationRequestView):
    """Off to the provider with a fresh state, nonce and PKCE challenge (kept in the
    session); ``?next=`` survives the round trip."""

    def __init__(self, **kwargs) -> None:
        # The parent reads the endpoints from settings here; they come from discovery.
        View.__init__(self, **kwargs)

    def get(self, request):
        if not settings.OIDC_ENABLED:
            return back_to_sign_in(request, NOT_CONFIGURED)
        try:
            self.OIDC_OP_AUTH_ENDPOINT = provider().authorization_endpoint
        except ProviderUnavailable:
            return back_to_sign_in(
                request,
                f"{provider_name()} cannot be reached right now. Try again in a minute.",
                request.GET.get("next"),
            )
        self.OIDC_RP_CLIENT_ID = settings.OIDC_RP_CLIENT_ID
        return super().get(request)


class ProviderCallbackView(OIDCAuthenticationCallbackView):
    def get(self, request):
        if not settings.OIDC_ENABLED:
            return back_to_sign_in(request, NOT_CONFIGURED)
        self.next_url = request.session.get("oidc_login_next")
        if request.GET.get("error"):
            reason = request.GET.get("error_description") or request.GET["error"]
            request.oidc_refusal = f"{provider_name()} did not sign you in ({reason[:200]})."
            # The library forgets the state and signs out any session, then fails.
            return super().get(request)
        state = request.GET.get("state")
        if "code" not in request.GET or state not in request.session.get("oidc_states", {}):
            # The library raises SuspiciousOperation (a 400 page) for an unknown state: a
            # reload of the callback, a back button or a replayed link. Say so instead.
            return back_to_sign_in(
                request,
                "That sign-in link was already used or has expired, so you are not signed "
                "in. Sign in again.",
            )
        return super().get(request)

    def login_failure(self):
        reason = getattr(self.request, "oidc_refusal", None) or (
            f"Signing in with {provider_name()} did not work. Try again; if it keeps "
            "failing, tell the platform team."
        )
        return back_to_sign_in(self.request, reason, self.next_url)

    def login_success(self):
        response = super().login_success()
        user = self.user
        messages.success(self.request, f"Welcome back, {user.get_short_name() or user}.")
        return response
