"""A Teams copy of each team notice: when a message for a team is queued (a row for the
team's contact address or its generic webhook, no person), the team's Teams channel gets
the same message as a card, once, whatever other team rows carry it."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.choices import NotificationChannel
from catalog.models import Notification

# Team rows of one message differ only by these suffixes; the Teams copy takes the
# message's own key plus ":teams", so the contact row and the webhook row yield one copy.
TEAM_SUFFIXES = (":team", ":webhook")
CHAT_CHANNELS = (NotificationChannel.SLACK, NotificationChannel.TEAMS)


def base_key(dedupe_key: str) -> str:
    for suffix in TEAM_SUFFIXES:
        if dedupe_key.endswith(suffix):
            return dedupe_key[: -len(suffix)]
    return dedupe_key


def _team_of(note: Notification):
    if note.team_id is not None:
        return note.team
    # notify_owners writes its webhook row before naming the team on it: the app's team.
    if note.channel == NotificationChannel.WEBHOOK and note.app_id is not None:
        return note.app.team
    return None


def team_teams_copies(notes: Iterable[Notification]) -> list[Notification]:
    """Unsaved Teams rows for the team notices among ``notes`` whose team has a Teams
    webhook (``team`` should be loaded with the rows; no query then)."""
    copies: dict[str, Notification] = {}
    for note in notes:
        if note.recipient_id is not None or note.channel in CHAT_CHANNELS:
            continue
        team = _team_of(note)
        if team is None or not team.teams_webhook_url:
            continue
        key = base_key(note.dedupe_key)[:194] + ":teams"
        if key in copies:
            continue
        copies[key] = Notification(
            team=team,
            app=note.app,
            kind=note.kind,
            subject=note.subject,
            body=note.body,
            link=note.link,
            channel=NotificationChannel.TEAMS,
            dedupe_key=key,
        )
    return list(copies.values())
