"""What sunset cases tell the apps that depend on the app going away, and the platform
team when an unanswered case cannot retire it because of them.

Builders of unsaved outbox rows only: the sunset services queue them in their own
transaction, with dedupe keys that make each notice go out once however often a job runs.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from catalog.choices import NotificationChannel
from catalog.models import MicroApp, Notification
from catalog.notifications import platform_team_notifications
from lifecycle.choices import NoticeKind
from lifecycle.services.common import when


def _names(apps: list[MicroApp]) -> str:
    return ", ".join(app.name for app in apps)


def dependent_owner_notices(
    *,
    provider: MicroApp,
    dependents: list[MicroApp],
    grace_end: datetime,
    why: str,
    dedupe_key: str,
) -> list[Notification]:
    """One notice per owner of the apps calling ``provider``, and per team of theirs (its
    contact address and webhook), naming their apps that call it; ``provider.owner`` and
    each dependent's owner and team must be loaded."""
    by_owner: dict[int, list[MicroApp]] = defaultdict(list)
    by_team: dict[int, list[MicroApp]] = defaultdict(list)
    for app in dependents:
        by_owner[app.owner_id].append(app)
        by_team[app.team_id].append(app)
    link = provider.get_absolute_url() + "#lifecycle"

    def message(apps: list[MicroApp]) -> dict:
        mine = _names(apps)
        verb = "calls" if len(apps) == 1 else "call"
        return {
            "app": provider,
            "kind": NoticeKind.DEPENDENCY_SUNSET,
            "subject": f"{provider.name}, which {mine} {verb}, may be retired",
            "body": (
                f"{why}\n\n{mine} {verb} {provider.name} ({provider.team.name}, owner "
                f"{provider.owner.get_username()}). Because live apps depend on it, it is not "
                f"retired without an answer: its owner can answer until {when(grace_end)}, "
                "and otherwise the platform team decides. Plan to remove or replace the "
                f"dependency, or tell its owner why {mine} still "
                f"need{'s' if len(apps) == 1 else ''} it."
            ),
            "link": link,
        }

    notes = [
        Notification(
            recipient=apps[0].owner,
            dedupe_key=f"{dedupe_key}:owner:{owner_id}"[:200],
            **message(apps),
        )
        for owner_id, apps in by_owner.items()
    ]
    for team_id, apps in by_team.items():
        team = apps[0].team
        if team.contact_email:
            notes.append(
                Notification(
                    team=team, dedupe_key=f"{dedupe_key}:team:{team_id}"[:200], **message(apps)
                )
            )
        if team.webhook_url:
            notes.append(
                Notification(
                    team=team,
                    channel=NotificationChannel.WEBHOOK,
                    dedupe_key=f"{dedupe_key}:webhook:{team_id}"[:200],
                    **message(apps),
                )
            )
    return notes


def escalation_notices(
    *, members: list, case_pk: int, provider: MicroApp, dependents: list[MicroApp]
) -> list[Notification]:
    """The platform team's notice that an unanswered case waits for their decision because
    ``dependents`` call the app, listing each with its team, owner and state."""
    listed = "\n".join(
        f"- {d.name} ({d.slug}): {d.team.name}, owner {d.owner.get_username()}, "
        f"{d.get_state_display().lower()}"
        for d in dependents
    )
    count = len(dependents)
    return platform_team_notifications(
        members=members,
        kind=NoticeKind.SUNSET_ESCALATED,
        subject=f"Sunset of {provider.name}: your decision, {count} app"
        f"{'s' if count != 1 else ''} depend on it",
        body=(
            f"Sunset case #{case_pk} for {provider.name} got no answer from its owner, but it "
            f"is not retired automatically because live apps call it:\n\n{listed}\n\n"
            "Decide the case: keep the app, or retire it naming each of these apps to confirm."
        ),
        dedupe_key=f"sunset-case:{case_pk}:escalated",
        app=provider,
        link=provider.get_absolute_url() + "#lifecycle",
    )
