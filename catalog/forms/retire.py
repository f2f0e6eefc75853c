"""Retiring an app by hand, and the confirmation any retirement asks while live apps call
the app (the sunset case forms use it too)."""

from __future__ import annotations

from django import forms

from catalog.models import FREE_TEXT_MAX, MicroApp


class ConfirmDependentsMixin:
    """Adds ``confirm_dependents``: one checkbox per live app calling the app, each to be
    ticked. The service checks the same list again, against the dependents at that moment."""

    dependents: list[MicroApp]

    def add_confirmation(self, dependents: list[MicroApp]) -> None:
        self.dependents = dependents
        if not dependents:
            return
        self.fields["confirm_dependents"] = forms.MultipleChoiceField(  # type: ignore[attr-defined]
            choices=[(d.slug, d.name) for d in dependents],
            required=False,
            widget=forms.CheckboxSelectMultiple,
        )

    def confirmation_missing(self) -> str:
        """The error to show when not every dependent is ticked, or ""."""
        if not self.dependents:
            return ""
        ticked = set(self.cleaned_data.get("confirm_dependents") or [])  # type: ignore[attr-defined]
        missing = [d.name for d in self.dependents if d.slug not in ticked]
        if not missing:
            return ""
        return f"Tick each app that calls it to confirm retiring it anyway: {', '.join(missing)}."

    @property
    def confirmed(self) -> list[str]:
        return list(self.cleaned_data.get("confirm_dependents") or [])  # type: ignore[attr-defined]


class RetireForm(ConfirmDependentsMixin, forms.Form):
    reason = forms.CharField(
        min_length=5,
        max_length=min(FREE_TEXT_MAX, 2000),
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Recorded in the app's history and shown on its page.",
        error_messages={"required": "Say why the app is retired."},
    )

    def __init__(self, *args, dependents: list[MicroApp], **kwargs):
        super().__init__(*args, **kwargs)
        self.add_confirmation(dependents)

    def clean(self):
        data = super().clean()
        missing = self.confirmation_missing()
        if missing:
            self.add_error("confirm_dependents", missing)
        return data
