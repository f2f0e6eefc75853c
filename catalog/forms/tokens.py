"""The "API tokens" page's form: a name and a lifetime from a short list."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError

from core import tokens
from core.models import ApiToken

# Lifetimes offered on the page; the API takes any number of days up to the maximum.
LIFETIME_CHOICES_DAYS = (7, 30, 90, 180, 365)


def _lifetime_label(days: int) -> str:
    label = {7: "7 days", 30: "30 days", 90: "90 days", 180: "180 days", 365: "1 year"}.get(
        days, f"{days} days"
    )
    return f"{label} (default)" if days == settings.APPKEEPER_API_TOKEN_DAYS else label


class TokenNameForm(forms.Form):
    """A token's name: what will use it. Checked by ``core.tokens.clean_name`` (printable,
    not blank) for every kind of token, and never autocompleted or spell-checked."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].widget.attrs.update({"autocomplete": "off", "spellcheck": "false"})

    def clean_name(self) -> str:
        try:
            return tokens.clean_name(self.cleaned_data["name"])
        except ValidationError as exc:
            raise ValidationError(exc.message_dict["name"]) from None


class ApiTokenForm(TokenNameForm):
    name = forms.CharField(
        max_length=ApiToken.NAME_MAX,
        help_text="What will use it, e.g. “deploy pipeline” or “laptop scripts”.",
    )
    lifetime = forms.TypedChoiceField(
        coerce=int,
        label="Expires after",
        help_text="After this the token stops working; issue a new one before then.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Offered lifetimes follow the settings: never past the maximum, always the default.
        days = {d for d in LIFETIME_CHOICES_DAYS if d <= settings.APPKEEPER_API_TOKEN_MAX_DAYS}
        days.add(settings.APPKEEPER_API_TOKEN_DAYS)
        field = self.fields["lifetime"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(d, _lifetime_label(d)) for d in sorted(days)]
        field.initial = settings.APPKEEPER_API_TOKEN_DAYS
