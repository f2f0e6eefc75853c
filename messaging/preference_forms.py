"""The preferences page's form: one select per topic and channel, and the time zone."""

from __future__ import annotations

from django import forms

from messaging.models import Cadence
from messaging.preferences import Choice, time_zone_names


class PreferencesForm(forms.Form):
    time_zone = forms.ChoiceField(required=False, label="Time zone")

    def __init__(self, *args, choices: list[Choice], default_zone: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.choices = choices
        zone = self.fields["time_zone"]
        assert isinstance(zone, forms.ChoiceField)
        zone.choices = [
            ("", f"The installation's ({default_zone})"),
            *((name, name) for name in time_zone_names()),
        ]
        for choice in choices:
            self.fields[choice.field_name] = forms.ChoiceField(
                choices=Cadence.choices,
                initial=choice.cadence,
                label=choice.label,
                # A table cell has no room for a visible label: the cell's select is
                # named for screen readers instead ("Reviews by email").
                widget=forms.Select(attrs={"aria-label": choice.label}),
            )

    def rows(self):
        """(topic label, [bound field per channel]) for the template's table."""
        table: dict[str, list] = {}
        for choice in self.choices:
            table.setdefault(choice.topic.label, []).append(self[choice.field_name])
        return list(table.items())

    def cadences(self) -> dict[tuple[str, str], str]:
        return {
            (c.topic.value, c.channel.value): self.cleaned_data[c.field_name] for c in self.choices
        }
