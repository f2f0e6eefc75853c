"""How an app uses each app it calls: one form per declared dependency.

Which apps it calls is chosen on the app's edit form; this page says, per dependency, the
operations called (ticked from the provider's current contract, or typed) and the contract
versions the app is built for. The rules are the API's (``impact.clean_uses``,
``versions.clean_range``) and ``catalog.services.app_update`` writes and audits.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.exceptions import ValidationError

from catalog import impact, versions
from catalog.impact import IMPACT_STATES
from catalog.models import Dependency
from catalog.models.dependencies import MAX_USE_LENGTH, MAX_USES


class DependencyDetailsForm(forms.Form):
    """One dependency: ``link`` (with ``current_version``) and the provider's operations."""

    uses = forms.MultipleChoiceField(
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label="Operations it calls",
    )
    other_uses = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false"}),
        label="Other operations",
        help_text='One per line: "GET /tickets/{id}" or a GraphQL field such as '
        '"Query.tickets". Nothing at all means every operation counts.',
        max_length=MAX_USES * (MAX_USE_LENGTH + 1),
    )
    version_range = forms.CharField(
        required=False,
        max_length=versions.MAX_RANGE_LENGTH,
        label="Contract versions",
        help_text='e.g. "^1" (1.x), "~1.2", ">=1.0,<2" or an exact "1.4.0". '
        "Empty: follows the current version.",
    )

    def __init__(self, *args: Any, link: Dependency, operations: list[str], **kwargs: Any):
        known = set(operations)
        kwargs.setdefault(
            "initial",
            {
                "uses": [use for use in link.uses if use in known],
                "other_uses": "\n".join(use for use in link.uses if use not in known),
                "version_range": link.version_range,
            },
        )
        super().__init__(*args, **kwargs)
        self.link = link
        self.provider = link.to_microapp
        self.operations = operations
        self.fields["uses"].choices = [(op, op) for op in operations]
        if not operations:
            del self.fields["uses"]
            self.fields["other_uses"].label = "Operations it calls"
        current = getattr(link, "current_version", None)
        if current:
            self.fields["version_range"].help_text += f" {self.provider.name} is at {current}."

    @property
    def pin_status(self) -> versions.PinStatus | None:
        if self.provider.state not in IMPACT_STATES:
            return None  # a draft or retired provider holds nobody behind
        return versions.pin_status(self.link.version_range, self.link.current_version)

    def clean_version_range(self) -> str:
        return versions.clean_range(self.cleaned_data.get("version_range"))

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        typed = (data.get("other_uses") or "").splitlines()
        try:
            data["all_uses"] = impact.clean_uses([*data.get("uses", []), *typed])
        except ValidationError as exc:
            self.add_error("other_uses", exc.messages)
        return data

    def declaration(self) -> dict[str, Any]:
        """What ``catalog.services`` takes for this dependency."""
        return {
            "to_microapp": self.provider,
            "uses": self.cleaned_data["all_uses"],
            "version_range": self.cleaned_data["version_range"],
        }


def details_forms(
    *, links: list[Dependency], operations: dict[int, list[str]], data=None
) -> list[DependencyDetailsForm]:
    """One form per link, each with its own prefix (the provider's slug, which stays the
    same whatever other links are added or removed meanwhile)."""
    return [
        DependencyDetailsForm(
            data,
            link=link,
            operations=operations.get(link.to_microapp_id, []),
            prefix=link.to_microapp.slug,
        )
        for link in links
    ]
