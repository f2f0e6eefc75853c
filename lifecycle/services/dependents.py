"""What sunset cases tell the apps that depend on the app going away, and the platform
team when an unanswered case cannot retire it because of them.

Builders of unsaved outbox rows only: the sunset services queue them in their own
transaction, with dedupe keys that make each notice go out once however often a job runs.
"""

from __future__ import annotations

from datetime import datetime

from catalog.models import MicroApp, Notification
from catalog.notifications import platform_team_notifications
from catalog.retirement import dependent_owner_notices
from lifecycle.choices import NoticeKind
from lifecycle.services.common import when


def _names(apps: list[MicroApp]) -> str:
    return ", ".join(app.name for app in apps)


def dependent_sunset_notices(
    *,
    provider: MicroApp,
    dependents: list[MicroApp],
    grace_end: datetime,
    why: str,
    dedupe_key: str,
) -> list[Notification]:
    """The notice that ``provider``'s sunset case opened, for the owner and team of each
    app calling it, naming their apps; ``provider.owner`` and ``provider.team`` must be
    loaded."""

    def message(apps: list[MicroApp]) -> tuple[str, str]:
        mine = _names(apps)
        verb = "calls" if len(apps) == 1 else "call"
        return (
            f"{provider.name}, which {mine} {verb}, may be retired",
            f"{why}\n\n{mine} {verb} {provider.name} ({provider.team.name}, "
            f"{_owned_by(provider)}). Because live apps depend on it, it is not "
            f"retired without an answer: its owner can answer until {when(grace_end)}, "
            "and otherwise the platform team decides. Plan to remove or replace the "
            f"dependency, or tell its owner why {mine} still "
            f"need{'s' if len(apps) == 1 else ''} it.",
        )

    notes = dependent_owner_notices(
        provider=provider,
        dependents=dependents,
        kind=NoticeKind.DEPENDENCY_SUNSET,
        message=message,
        dedupe_key=dedupe_key,
    )
    for note in notes:
        note.link = provider.get_absolute_url() + "#lifecycle"
    return notes


def _owned_by(app: MicroApp) -> str:
    return f"owner {app.owner.get_username()}" if app.owner is not None else "team-owned"


def escalation_notices(
    *, members: list, case_pk: int, provider: MicroApp, dependents: list[MicroApp]
) -> list[Notification]:
    """The platform team's notice that an unanswered case waits for their decision because
    ``dependents`` call the app, listing each with its team, owner and state."""
    listed = "\n".join(
        f"- {d.name} ({d.slug}): {d.team.name}, {_owned_by(d)}, {d.get_state_display().lower()}"
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
