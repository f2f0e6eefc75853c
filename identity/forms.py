"""The mapping page's form: a directory group and the role it gives."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError

from catalog.models import Team
from catalog.models.common import no_control_characters
from identity.models import GroupMapping


class GroupMappingForm(forms.Form):
    group = forms.CharField(
        max_length=255,
        validators=[no_control_characters],
        label="Directory group",
        help_text="Exactly as the provider sends it in the groups claim (Entra ID: the "
        "group's object id unless it is configured to send names).",
    )
    role = forms.ChoiceField(choices=GroupMapping.Role.choices, label="Gives")
    team = forms.ModelChoiceField(
        queryset=Team.objects.order_by("name"),
        required=False,
        empty_label="—",
        to_field_name="slug",
        help_text="Only for “Team member”: membership of this team.",
    )

    def clean(self):
        cleaned = super().clean()
        role, team, group = cleaned.get("role"), cleaned.get("team"), cleaned.get("group")
        if role == GroupMapping.Role.TEAM and team is None:
            self.add_error("team", "Choose the team this group's members join.")
        elif role and role != GroupMapping.Role.TEAM and team is not None:
            self.add_error("team", "A team goes only with “Team member”; leave it empty.")
            return cleaned
        if group and role and not self.errors:
            target = team if role == GroupMapping.Role.TEAM else None
            if GroupMapping.objects.filter(group=group, role=role, team=target).exists():
                raise ValidationError(
                    f"“{group}” already gives that role; each mapping is listed once.",
                    code="duplicate",
                )
        return cleaned
