"""Sign in and sign out."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import views as auth_views

# --- sign in / sign out ------------------------------------------------------------------


class SignInView(auth_views.LoginView):
    """Django's login view, plus a greeting so the person knows it worked."""

    redirect_authenticated_user = True

    def form_valid(self, form):
        response = super().form_valid(form)
        user = form.get_user()
        messages.success(self.request, f"Welcome back, {user.get_short_name() or user}.")
        return response


class SignOutView(auth_views.LogoutView):
    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        # The session is gone; the message travels in the cookie storage of FallbackStorage.
        messages.info(request, "You are signed out.")
        return response
