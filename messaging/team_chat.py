"""Saving where a team hears about its apps in chat: the team page and the API both write
through :func:`set_team_chat`, with one audit event that never carries the webhook URL
(the URL is the credential)."""

from __future__ import annotations

from django.db import transaction

from catalog.models import AuditEvent, Team
from messaging.alerts import resolve_alerts
from messaging.models import AlertCode


def set_team_chat(*, team: Team, slack_channel: str, teams_webhook_url: str, actor) -> Team:
    """Save both settings (already validated); a new Teams webhook resolves the alert the
    old one raised. Writing the same values again writes nothing."""
    with transaction.atomic():
        locked = Team.objects.select_for_update().get(pk=team.pk)
        changed = []
        if locked.slack_channel != slack_channel:
            changed.append("slack_channel")
        if locked.teams_webhook_url != teams_webhook_url:
            changed.append("teams_webhook_url")
        if changed:
            data = {"team": locked.slug}
            if "slack_channel" in changed:
                data["slack_channel"] = {"before": locked.slack_channel, "after": slack_channel}
            if "teams_webhook_url" in changed:
                data["teams_webhook"] = "set" if teams_webhook_url else "removed"
                resolve_alerts(AlertCode.TEAMS_WEBHOOK, locked.slug)
            locked.slack_channel = slack_channel
            locked.teams_webhook_url = teams_webhook_url
            locked.save(update_fields=[*changed, "updated_at"])
            AuditEvent.record(app=None, actor=actor, action="team_chat_changed", data=data)
    team.slack_channel = slack_channel
    team.teams_webhook_url = teams_webhook_url
    return team
