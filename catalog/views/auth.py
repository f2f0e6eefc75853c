"""Sign in and sign out."""

from __future__ import annotations

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.http import HttpResponseRedirect
from django.urls import reverse

# --- sign in / sign out ------------------------------------------------------------------

PASSWORDS_OFF = "Password sign-in is turned off here; sign in with {provider} instead."


class SignInView(auth_views.LoginView):
    """Django's login view, plus a greeting so the person knows it worked, and the single
    sign-on button when a provider is configured (``APPKEEPER_PASSWORD_LOGIN=false`` leaves
    only the button, and refuses credentials sent anyway)."""

    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        sso_url = ""
        if settings.OIDC_ENABLED:
            next_url = context.get("next")
            sso_url = reverse("oidc_authentication_init")
            if next_url:
                sso_url += "?" + urlencode({"next": next_url})
        context.update(
            sso_url=sso_url,
            sso_provider=settings.OIDC_PROVIDER_NAME,
            password_login=settings.APPKEEPER_PASSWORD_LOGIN,
        )
        return context

    def post(self, request, *args, **kwargs):
        if not settings.APPKEEPER_PASSWORD_LOGIN:
            messages.error(request, PASSWORDS_OFF.format(provider=settings.OIDC_PROVIDER_NAME))
            context = self.get_context_data(form=self.get_form_class()(request))
            return self.render_to_response(context, status=403)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        messages.success(self.request, f"Welcome back, {user.get_short_name() or user}.")
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        id_token = request.session.get("oidc_id_token")
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the cookie storage of FallbackStorage.
        messages.info(request, "You are signed out.")
        provider_logout = _provider_sign_out(request, id_token)
        return HttpResponseRedirect(provider_logout) if provider_logout else response


def _provider_sign_out(request, id_token: str | None) -> str:
    """The provider's end-session address, when it has one and this was a single sign-on
    session: otherwise the next sign-in would go straight through without asking."""
    if not (settings.OIDC_ENABLED and id_token):
        return ""
    # Imported here: the catalog's pages do not need the identity app to sign people out.
    from identity.discovery import ProviderUnavailable, provider
    from identity.oidc import end_session_url

    try:
        metadata = provider()
    except ProviderUnavailable:
        return ""
    if not metadata.end_session_endpoint:
        return ""
    return end_session_url(
        metadata, id_token=id_token, return_to=request.build_absolute_uri(reverse("login"))
    )
