"""Forms of the lifecycle pages; the services re-check everything."""

from __future__ import annotations

from django import forms

from catalog.forms.retire import ConfirmDependentsMixin
from catalog.models import MicroApp
from lifecycle.choices import SunsetDecision, SunsetResponse
from lifecycle.services import JUSTIFICATION_MIN_CHARS


class RenewForm(forms.Form):
    justification = forms.CharField(
        min_length=JUSTIFICATION_MIN_CHARS,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Why is the app still needed? At least {JUSTIFICATION_MIN_CHARS} characters.",
    )


class SunsetRespondForm(ConfirmDependentsMixin, forms.Form):
    # Verbs, not the stored past participles ("Accepted"): the owner is choosing an action.
    response = forms.ChoiceField(
        choices=[(SunsetResponse.ACCEPT, "Accept"), (SunsetResponse.CONTEST, "Contest")],
        widget=forms.RadioSelect,
        error_messages={"required": "Choose whether you accept or contest the sunset."},
    )
    justification = forms.CharField(
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=f"Required to contest: at least {JUSTIFICATION_MIN_CHARS} characters.",
    )

    def __init__(self, *args, dependents: list[MicroApp] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_confirmation(dependents or [])

    def clean(self):
        data = super().clean()
        text = (data.get("justification") or "").strip()
        if data.get("response") == SunsetResponse.CONTEST and len(text) < JUSTIFICATION_MIN_CHARS:
            self.add_error(
                "justification", f"Explain in at least {JUSTIFICATION_MIN_CHARS} characters."
            )
        missing = self.confirmation_missing()
        if data.get("response") == SunsetResponse.ACCEPT and missing:
            self.add_error("confirm_dependents", missing)
        return data


class SunsetDecideForm(ConfirmDependentsMixin, forms.Form):
    decision = forms.ChoiceField(
        choices=SunsetDecision.choices,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose to keep the app or to retire it."},
    )
    comment = forms.CharField(
        required=False, max_length=4000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, dependents: list[MicroApp] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_confirmation(dependents or [])

    def clean(self):
        data = super().clean()
        missing = self.confirmation_missing()
        if data.get("decision") == SunsetDecision.RETIRE and missing:
            self.add_error("confirm_dependents", missing)
        return data
