"""A team's chat settings over the API: its Slack channel and Teams webhook. The webhook
is written, never read back: answers say only whether one is set and on which host."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from catalog.api.schema import StrictCharField
from catalog.models import Team


def _check(validator, value: str) -> str:
    try:
        validator(value)
    except DjangoValidationError as exc:
        raise serializers.ValidationError(exc.messages) from None
    return value


class TeamChatSerializer(serializers.Serializer):
    slack_channel = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=100,
        help_text="A channel id (C0123ABCD) or a name (#team-payments); empty: none.",
    )
    teams_webhook_url = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=1000,
        write_only=True,
        help_text="The https URL of a Teams Workflows webhook; empty: none.",
    )
    teams_webhook_configured = serializers.SerializerMethodField()
    teams_webhook_host = serializers.SerializerMethodField()

    def validate_slack_channel(self, value: str) -> str:
        from messaging.validators import validate_slack_channel

        return _check(validate_slack_channel, value.strip())

    def validate_teams_webhook_url(self, value: str) -> str:
        from messaging.teams.hosts import validate_teams_webhook_url

        return _check(validate_teams_webhook_url, value.strip())

    def get_teams_webhook_configured(self, team: Team) -> bool:
        return bool(team.teams_webhook_url)

    def get_teams_webhook_host(self, team: Team) -> str:
        from messaging.teams.hosts import masked

        return masked(team.teams_webhook_url)
