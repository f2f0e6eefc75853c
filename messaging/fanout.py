"""A team's chat channels get a copy of each notice the team is sent: whenever a row for
the team itself (its contact address or its generic webhook, no person) is queued, a Slack
row for the team's channel and a Teams row for its Workflows webhook are queued beside it,
once per notice whatever other team rows carry it."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.choices import NotificationChannel
from catalog.models import Notification, Team

TEAM_CHANNELS = frozenset({NotificationChannel.EMAIL, NotificationChannel.WEBHOOK})
# The suffixes ``owner_notifications`` gives a notice's team rows: the email and the webhook
# row of one notice share the part before, so each chat channel gets one copy, not two.
TEAM_SUFFIXES = (":team", ":webhook")
KEY_MAX = 200
# (channel, dedupe key suffix, the team field that must be set)
CHAT_COPIES = (
    (NotificationChannel.SLACK, ":slack", "slack_channel"),
    (NotificationChannel.TEAMS, ":teams", "teams_webhook_url"),
)


def base_key(dedupe_key: str) -> str:
    for suffix in TEAM_SUFFIXES:
        if dedupe_key.endswith(suffix):
            return dedupe_key[: -len(suffix)]
    return dedupe_key


def copy_key(dedupe_key: str, suffix: str) -> str:
    return base_key(dedupe_key)[: KEY_MAX - len(suffix)] + suffix


def team_chat_copies(notes: Iterable[Notification]) -> list[Notification]:
    """Unsaved Slack and Teams rows for the team rows among ``notes`` whose team has a
    Slack channel or a Teams webhook. Teams loaded on the rows cost nothing; the others
    are read in one query."""
    team_rows = [
        n
        for n in notes
        if n.recipient_id is None
        and n.channel in TEAM_CHANNELS
        and (n.team_id is not None or (n.channel == NotificationChannel.WEBHOOK and n.app_id))
    ]
    if not team_rows:
        return []
    unloaded = {n.team_id for n in team_rows if n.team_id and not Notification.team.is_cached(n)}
    read = Team.objects.in_bulk(list(unloaded)) if unloaded else {}
    copies: dict[str, Notification] = {}
    for note in team_rows:
        team = _team_of(note, read)
        if team is None:
            continue
        for channel, suffix, field in CHAT_COPIES:
            key = copy_key(note.dedupe_key, suffix)
            if not getattr(team, field) or key in copies:
                continue
            copies[key] = Notification(
                team_id=team.pk,
                app_id=note.app_id,
                kind=note.kind,
                subject=note.subject,
                body=note.body,
                link=note.link,
                channel=channel,
                dedupe_key=key,
            )
    return list(copies.values())


def _team_of(note: Notification, read: dict[int, Team]) -> Team | None:
    if note.team_id is not None:
        return read.get(note.team_id) or note.team
    # A webhook row written before its team was named on it: the app's team.
    return note.app.team if note.app_id is not None else None
