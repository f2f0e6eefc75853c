"""The bulk transfer page's form: whose apps (a person, a team or a list), to whom, why;
and what the preview showed, so a confirmation moves exactly that."""

from __future__ import annotations

import re

from django import forms
from django.contrib.auth import get_user_model

from catalog.models import Team

SLUG_SEPARATORS = re.compile(r"[\s,]+")


def _person_field(label: str, help_text: str, *, required: bool) -> forms.ModelChoiceField:
    return forms.ModelChoiceField(
        queryset=get_user_model().objects.all(),
        to_field_name="username",
        required=required,
        label=label,
        help_text=help_text,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
        error_messages={
            "invalid_choice": "No one has this username.",
            "required": "Name the person who will own the apps.",
        },
    )


class TransferForm(forms.Form):
    from_owner = _person_field(
        "From person",
        "Username: every live app they own moves (someone who left too).",
        required=False,
    )
    team = forms.ModelChoiceField(
        queryset=Team.objects.all(),
        to_field_name="slug",
        required=False,
        label="Or from team",
        empty_label="No team",
        help_text="Every live app of the team moves.",
    )
    apps = forms.CharField(
        required=False,
        label="Or these apps",
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 2, "spellcheck": "false"}),
        help_text="App slugs, separated by spaces, commas or new lines.",
    )
    to = _person_field("To person", "Username of the new owner: an active account.", required=True)
    reason = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Recorded in each app's history and sent to the people concerned. "
        "Needed to transfer, not to preview.",
    )
    # What the preview listed, re-posted by the confirm button.
    preview_to = forms.CharField(required=False, widget=forms.HiddenInput)
    preview_apps = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_apps(self) -> list[str]:
        text = self.cleaned_data.get("apps") or ""
        return sorted({slug for slug in SLUG_SEPARATORS.split(text.strip().lower()) if slug})

    @property
    def previewed(self) -> list[str]:
        return (self.cleaned_data.get("preview_apps") or "").split()
