"""The sync sources page's form: a catalog file to pull from Backstage, and how often."""

from __future__ import annotations

from django import forms

from catalog.backstage.source_services import MIN_INTERVAL, url_error
from catalog.models import BackstageSource
from catalog.models.common import no_control_characters


class BackstageSourceForm(forms.Form):
    name = forms.CharField(max_length=100, validators=[no_control_characters])
    url = forms.URLField(
        max_length=2000,
        label="URL",
        assume_scheme="https",
        help_text="A catalog-info.yaml or a file of Location entities, on a host listed in "
        "APPKEEPER_BACKSTAGE_ALLOWED_HOSTS.",
    )
    token = forms.CharField(
        max_length=500,
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Optional. Sent as a bearer token to this URL's host only; never shown again.",
    )
    interval_minutes = forms.IntegerField(
        min_value=MIN_INTERVAL,
        max_value=7 * 24 * 60,
        initial=60,
        label="Every (minutes)",
    )

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        if BackstageSource.objects.filter(name__iexact=name).exists():
            raise forms.ValidationError("A source already has this name.")
        return name

    def clean_url(self) -> str:
        url = self.cleaned_data["url"]
        if error := url_error(url):
            raise forms.ValidationError(error)
        return url
