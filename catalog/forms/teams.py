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


class TeamChatForm(forms.ModelForm):
    """Where the team hears about its apps in chat. The Teams webhook is a secret: the
    field starts empty, and an empty submission keeps the saved one unless "remove" is
    ticked."""

    teams_webhook_url = forms.CharField(
        required=False,
        max_length=1000,
        label="Teams webhook URL",
        help_text="From a Teams Workflows flow \u201cPost to a channel when a webhook request "
        "is received\u201d. Leave empty to keep the saved one.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    remove_teams_webhook = forms.BooleanField(required=False, label="Remove the Teams webhook")

    class Meta:
        model = Team
        fields = ["slack_channel"]
        labels = {"slack_channel": "Slack channel"}
        help_texts = {
            "slack_channel": "A channel id such as C0123ABCD (from \u201cCopy link\u201d) or a "
            "name such as #team-payments. Invite the Appkeeper app to it.",
        }

    def clean_slack_channel(self) -> str:
        from messaging.validators import validate_slack_channel

        value = self.cleaned_data["slack_channel"].strip()
        validate_slack_channel(value)
        return value

    def clean_teams_webhook_url(self) -> str:
        from messaging.teams.hosts import validate_teams_webhook_url

        value = self.cleaned_data["teams_webhook_url"].strip()
        validate_teams_webhook_url(value)
        return value

    def chat_settings(self, team: Team) -> tuple[str, str]:
        """The (Slack channel, Teams webhook) to save from the cleaned data."""
        webhook = team.teams_webhook_url
        if self.cleaned_data.get("remove_teams_webhook"):
            webhook = ""
        elif self.cleaned_data.get("teams_webhook_url"):
            webhook = self.cleaned_data["teams_webhook_url"]
        return self.cleaned_data["slack_channel"], webhook
