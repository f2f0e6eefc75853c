"""A team's Slack channel gets a copy of each notice its team is sent: whenever a row for
the team itself (its contact address or its webhook) is queued, a Slack row for the team's
channel is queued beside it."""

from __future__ import annotations

from collections.abc import Iterable

from catalog.choices import NotificationChannel
from catalog.models import Notification, Team

TEAM_CHANNELS = frozenset({NotificationChannel.EMAIL, NotificationChannel.WEBHOOK})
# The suffixes ``owner_notifications`` gives a notice's team rows: the email and the webhook
# copy of one notice share the part before, so the team channel gets one post, not two.
TEAM_SUFFIXES = (":team", ":webhook")
SLACK_SUFFIX = ":slack"
KEY_MAX = 200


def slack_key(dedupe_key: str) -> str:
    base = dedupe_key
    for suffix in TEAM_SUFFIXES:
        if base.endswith(suffix):
            base = base[: -len(suffix)]
            break
    return base[: KEY_MAX - len(SLACK_SUFFIX)] + SLACK_SUFFIX


def team_slack_copies(notes: Iterable[Notification]) -> list[Notification]:
    """Unsaved Slack rows for the team rows among ``notes`` whose team has a Slack channel,
    one per notice. Teams already loaded on the rows cost nothing; the others are read in
    one query."""
    team_rows = [
        n
        for n in notes
        if n.recipient_id is None and n.team_id is not None and n.channel in TEAM_CHANNELS
    ]
    if not team_rows:
        return []
    unloaded = {n.team_id for n in team_rows if not Notification.team.is_cached(n)}
    with_channel = {
        n.team.pk
        for n in team_rows
        if n.team_id not in unloaded and n.team is not None and n.team.slack_channel
    }
    if unloaded:
        with_channel |= set(
            Team.objects.filter(pk__in=unloaded)
            .exclude(slack_channel="")
            .values_list("pk", flat=True)
        )
    copies: dict[str, Notification] = {}
    for note in team_rows:
        key = slack_key(note.dedupe_key)
        if note.team_id not in with_channel or key in copies:
            continue
        copies[key] = Notification(
            team_id=note.team_id,
            app_id=note.app_id,
            kind=note.kind,
            subject=note.subject,
            body=note.body,
            link=note.link,
            channel=NotificationChannel.SLACK,
            dedupe_key=key,
        )
    return list(copies.values())
