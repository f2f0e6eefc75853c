"""The blast radius page's one question: how many levels of dependents to follow."""

from __future__ import annotations

from django import forms

from catalog import impact


class BlastRadiusForm(forms.Form):
    depth = forms.TypedChoiceField(
        coerce=int,
        required=False,
        empty_value=None,
        label="Follow dependents",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        limit = impact.max_depth()
        field = self.fields["depth"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [(level, _depth_label(level, limit)) for level in range(1, limit + 1)]
        field.error_messages["invalid_choice"] = (
            f"Choose between 1 and {limit} levels; showing all {limit}."
        )

    def levels(self) -> int:
        """The levels asked for; every level when none (or an invalid one) was."""
        if self.is_valid() and self.cleaned_data["depth"]:
            return self.cleaned_data["depth"]
        return impact.max_depth()


def _depth_label(level: int, limit: int) -> str:
    if level == 1:
        return "1 level: the apps that call it"
    if level == limit:
        return f"All {limit} levels"
    return f"{level} levels"
