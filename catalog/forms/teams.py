"""The team page's lead form: one active person, or nobody."""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Case, Exists, IntegerField, OuterRef, Q, Value, When

from catalog.models import Team


def lead_choices(team: Team):
    """The team's active members, and its current lead if they are not one: a list that
    stays short however large the directory is (a lead from outside the team is named over
    the API or in the admin). One query."""
    User = get_user_model()
    members = Team.members.through.objects.filter(team_id=team.pk, user_id=OuterRef("pk"))
    return (
        User.objects.filter(is_active=True)
        .annotate(
            in_team=Case(
                When(Exists(members), then=Value(0)), default=Value(1), output_field=IntegerField()
            )
        )
        .filter(Q(in_team=0) | Q(pk=team.lead_id))
        .order_by("in_team", "username")
    )


class LeadChoiceField(forms.ModelChoiceField):
    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError:
            # Deactivated since the page was shown: say so, rather than "unknown".
            gone = get_user_model().objects.filter(username=value, is_active=False).exists()
            if gone:
                raise forms.ValidationError(
                    f"{value} is deactivated.", code="deactivated"
                ) from None
            raise

    def label_from_instance(self, obj) -> str:
        name = obj.get_full_name()
        label = f"{obj.get_username()} ({name})" if name else obj.get_username()
        return label if getattr(obj, "in_team", 1) == 0 else f"{label}, not a member"


class TeamLeadForm(forms.Form):
    lead = LeadChoiceField(
        queryset=get_user_model().objects.none(),
        to_field_name="username",
        required=False,
        empty_label="No lead",
        label="Team lead",
        help_text="Takes over an app whose owner leaves when the app has no active co-owner. "
        "One of the team's active members (someone from outside the team is named over the "
        "API or in the admin).",
        error_messages={
            "invalid_choice": "Choose an active person: this one is unknown or deactivated."
        },
    )

    def __init__(self, *args, team: Team, **kwargs):
        super().__init__(*args, **kwargs)
        self.team = team
        self.fields["lead"].queryset = lead_choices(team)
