"""Bulk transfer: the platform team moves every live app of a person or a team, or a list
of apps, to another owner in one action, with a dry run that lists what would move.

The bulk form of ``catalog.ownership.reassign``: the same audit action (TRANSFERRED) and
the same changes (owner, co-owners the new owner leaves, the orphaned flag cleared), but
written in a fixed number of statements whatever the number of apps, so moving a leaver's
two hundred apps is one short transaction. The new owner hears once per run, not once per
app; each previous owner still here and each affected team's contact and webhook hear
once too.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState, NotificationChannel
from catalog.models import FREE_TEXT_MAX, AuditEvent, MicroApp, Notification, Team
from catalog.notifications import queue
from catalog.ownership import TRANSFERRED
from core.types import Actor, SignedInUser

NOTICE_KIND = "owner_transferred"
# How many app names a summary notification spells out before "and N more".
NAMED_IN_SUMMARY = 10


@dataclass(frozen=True)
class Move:
    """One app of the selection: where it goes, or that it stays (already the target's)."""

    slug: str
    name: str
    team: str
    team_name: str
    from_owner: str | None  # None: the app was team-owned
    to: str
    orphaned: bool

    def as_dict(self) -> dict:
        data = asdict(self)
        data["from"] = data.pop("from_owner")
        return data


@dataclass
class TransferResult:
    dry_run: bool
    to: str
    run_id: str = ""
    moved: list[Move] = field(default_factory=list)
    unchanged: list[Move] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.moved)

    @property
    def slugs(self) -> list[str]:
        """Every app the selection named, moving or not: what a confirmation must match."""
        return sorted(m.slug for m in [*self.moved, *self.unchanged])

    def as_dict(self) -> dict:
        return {
            "dry_run": self.dry_run,
            "count": self.count,
            "moved": [m.as_dict() for m in self.moved],
            "unchanged": [m.as_dict() for m in self.unchanged],
        }


class SelectionChanged(ValidationError):
    """The apps a confirmation names are no longer what the selection finds."""


def _refuse(field_name: str, message: str, code: str) -> ValidationError:
    return ValidationError({field_name: ValidationError(message, code=code)})


def _selection(
    *, from_owner: SignedInUser | None, team: Team | None, apps: Sequence[str] | None
) -> Q:
    if (from_owner is not None) + (team is not None) + bool(apps) != 1:
        raise _refuse(
            NON_FIELD_ERRORS,
            "Choose exactly one of: a person whose apps move, a team whose apps move, or a "
            "list of apps.",
            "one_selector",
        )
    if from_owner is not None:
        return Q(owner=from_owner)
    if team is not None:
        return Q(team=team)
    return Q(slug__in=list(apps or ()))


def _check_listed(apps: Sequence[str], found: dict[str, MicroApp], retired: set[str]) -> None:
    unknown = sorted(set(apps) - set(found) - retired)
    if unknown:
        raise _refuse("apps", f"No such app: {', '.join(unknown)}.", "unknown_app")
    if retired:
        raise _refuse(
            "apps",
            f"Retired apps keep their owner, as history: {', '.join(sorted(retired))}.",
            "retired_app",
        )


def _move_of(app: MicroApp, to: SignedInUser) -> Move:
    return Move(
        slug=app.slug,
        name=app.name,
        team=app.team.slug,
        team_name=app.team.name,
        from_owner=app.owner.get_username() if app.owner is not None else None,
        to=to.get_username(),
        orphaned=app.orphaned_at is not None,
    )


@transaction.atomic
def transfer(
    *,
    actor: Actor,
    to: SignedInUser,
    from_owner: SignedInUser | None = None,
    team: Team | None = None,
    apps: Sequence[str] | None = None,
    reason: str = "",
    dry_run: bool = False,
    expect: Sequence[str] | None = None,
) -> TransferResult:
    """Make ``to`` the owner of the selected apps, or (``dry_run``) say which would move.

    The selection is exactly one of: the live apps ``from_owner`` owns (apps they only
    co-own keep their owner), the live apps of ``team``, or the apps named by slug in
    ``apps`` (every one must exist and be live). Retired apps are never moved: they keep the
    owner they had, as history. An app ``to`` already owns is listed as unchanged. ``to``
    must be an active account, and a real run needs a ``reason`` (it goes in each app's
    history). ``expect``, the slugs a preview showed, makes a real run refuse
    (:class:`SelectionChanged`) when the selection finds other apps now.

    Queries: one for a dry run; a real run locks the apps and writes in a fixed number of
    statements (co-owners read and the new owner taken off them, one UPDATE, one insert of
    audit events, one of notifications), whatever the number of apps.
    """
    selection = _selection(from_owner=from_owner, team=team, apps=apps)
    if not to.is_active:
        raise _refuse(
            "to", f"{to.get_username()} is deactivated: choose an active person.", "inactive"
        )
    reason = reason.strip()
    if not dry_run and not reason:
        raise _refuse("reason", "Say why the apps move: it goes in each app's history.", "required")
    if len(reason) > FREE_TEXT_MAX:
        raise _refuse("reason", f"Keep the reason under {FREE_TEXT_MAX} characters.", "max_length")
    rows = MicroApp.objects.filter(selection).select_related("team", "owner").order_by("slug")
    if not apps:
        # A person's or a team's apps: the live ones. Named apps are all read, so a retired
        # one among them is refused by name rather than silently left out.
        rows = rows.live()
    if not dry_run:
        # Locked until the transaction ends: a concurrent edit or hand-over waits for the
        # move instead of writing an owner this run is about to replace.
        rows = rows.select_for_update(of=("self",))
    listed = list(rows)
    found = {app.slug: app for app in listed if app.state != AppState.RETIRED}
    if apps:
        _check_listed(apps, found, {a.slug for a in listed if a.state == AppState.RETIRED})
    result = TransferResult(dry_run=dry_run, to=to.get_username())
    moving = []
    for app in found.values():
        if app.owner_id == to.pk:
            result.unchanged.append(_move_of(app, to))
        else:
            result.moved.append(_move_of(app, to))
            moving.append(app)
    if expect is not None and sorted(set(expect)) != result.slugs:
        raise SelectionChanged(
            {
                NON_FIELD_ERRORS: ValidationError(
                    "The apps this selection finds changed since the preview; nothing was "
                    "moved. Check the new preview and confirm again.",
                    code="selection_changed",
                )
            }
        )
    if dry_run or not moving:
        return result
    result.run_id = uuid.uuid4().hex[:12]
    _write(moving, result, to=to, actor=actor, reason=reason)
    _notify(moving, result, to=to, actor=actor, reason=reason)
    return result


def _write(
    moving: list[MicroApp], result: TransferResult, *, to: SignedInUser, actor: Actor, reason: str
) -> None:
    """Owner, orphaned flag and co-owners of every moving app, and one audit event each."""
    ids = [app.pk for app in moving]
    through = MicroApp.co_owners.through
    co_owners: dict[int, list[str]] = defaultdict(list)
    for app_id, username in through.objects.filter(microapp_id__in=ids).values_list(
        "microapp_id", "user__username"
    ):
        co_owners[app_id].append(username)
    # The owner would otherwise be listed twice: as owner and as co-owner.
    through.objects.filter(microapp_id__in=ids, user_id=to.pk).delete()
    now = timezone.now()
    MicroApp.objects.filter(pk__in=ids).update(owner=to, orphaned_at=None, updated_at=now)
    new_owner = to.get_username()
    events = []
    for app in moving:
        previous = app.owner.get_username() if app.owner is not None else None
        changes: dict = {"owner": [previous, new_owner]}
        before = sorted(co_owners.get(app.pk, []))
        if new_owner in before:
            changes["co_owners"] = [before, [name for name in before if name != new_owner]]
        if app.orphaned_at is not None:
            changes["orphaned"] = [True, False]
        events.append(
            AuditEvent.build(
                app=app,
                actor=actor,
                action=TRANSFERRED,
                changes=changes,
                comment=reason,
                data={"from": previous, "to": new_owner, "run": result.run_id},
            )
        )
    AuditEvent.objects.bulk_create(events)


def _named(apps: list[MicroApp]) -> str:
    names = [app.name for app in apps[:NAMED_IN_SUMMARY]]
    more = len(apps) - len(names)
    return ", ".join(names) + (f" and {more} more" if more > 0 else "")


def _notify(
    moving: list[MicroApp], result: TransferResult, *, to: SignedInUser, actor: Actor, reason: str
) -> None:
    """One summary each: the new owner, every previous owner still active, and each
    affected team's contact address and webhook (one insert)."""
    by = getattr(actor, "get_username", lambda: "the platform team")()
    run = result.run_id
    count = len(moving)
    apps_word = "app" if count == 1 else "apps"
    single = moving[0] if count == 1 else None
    notes = [
        Notification(
            recipient=to,
            app=single,
            kind=NOTICE_KIND,
            subject=f"You now own {count} {apps_word}",
            body=(
                f"{by} made you the owner of {_named(moving)}. Reminders, reviews and "
                f"renewals for them come to you from now on. Reason: {reason}"
            ),
            link=reverse("my-apps"),
            dedupe_key=f"transfer:{run}:to",
        )
    ]
    by_owner: dict[int, list[MicroApp]] = defaultdict(list)
    by_team: dict[int, list[MicroApp]] = defaultdict(list)
    for app in moving:
        # A team-owned app had no person to tell: its team's copy below covers it.
        if app.owner_id is not None:
            by_owner[app.owner_id].append(app)
        by_team[app.team_id].append(app)
    for owned in by_owner.values():
        previous = owned[0].owner
        if previous is None or not previous.is_active:
            continue
        notes.append(
            Notification(
                recipient=previous,
                app=owned[0] if len(owned) == 1 else None,
                kind=NOTICE_KIND,
                subject=f"{len(owned)} of your apps moved to {to.get_username()}",
                body=f"{by} moved {_named(owned)} to {to.get_username()}. Reason: {reason}",
                link=reverse("my-apps"),
                dedupe_key=f"transfer:{run}:from:{previous.pk}",
            )
        )
    for team_apps in by_team.values():
        team = team_apps[0].team
        message = {
            "app": team_apps[0] if len(team_apps) == 1 else None,
            "team": team,
            "kind": NOTICE_KIND,
            "subject": (
                f"{team.name}: {len(team_apps)} app{'s have' if len(team_apps) > 1 else ' has'} "
                "a new owner"
            ),
            "body": f"{by} made {to.get_username()} the owner of {_named(team_apps)}. "
            f"Reason: {reason}",
            "link": f"{reverse('app-list')}?team={team.slug}&owner={to.get_username()}",
        }
        if team.contact_email:
            notes.append(Notification(dedupe_key=f"transfer:{run}:team:{team.pk}", **message))
        if team.webhook_url:
            notes.append(
                Notification(
                    channel=NotificationChannel.WEBHOOK,
                    dedupe_key=f"transfer:{run}:webhook:{team.pk}",
                    **message,
                )
            )
    queue(notes)
