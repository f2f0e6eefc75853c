"""Who answers for an app when people come and go: co-owners, the team lead, handing a
leaver's apps over, and moving apps between owners.

An app has at most one owner (the person reminders and reviews go to) and any number of
co-owners, who share the owner's rights; an app without an owner is team-owned (its
co-owners, else its team lead, else its team contact read the owner's notices) and never
orphaned, since its team still answers for it. When the owner is deactivated, whichever way
(provisioning, single sign-on, the admin), :func:`hand_over` gives each of their live apps
to its first active co-owner, else to the team lead, else flags it orphaned for the
platform team; team-owned apps have no owner to leave and are not touched. Every move is
one audit event and the people concerned are told.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState, NotificationChannel
from catalog.models import AuditEvent, MicroApp
from catalog.notifications import notify, notify_platform_team
from core.types import Actor, SignedInUser

# The audit actions of this module, for the app's history and the scorecard.
HANDED_OVER = "owner_handed_over"
ORPHANED = "orphaned"
TRANSFERRED = "owner_transferred"
# The notice kind that tells the platform team and the app's team about an orphaned app.
ORPHANED_NOTICE = "app_orphaned"


@dataclass
class Handover:
    """What happened to one leaver's apps: who took each over, and which were orphaned."""

    handed: list[tuple[MicroApp, SignedInUser]] = field(default_factory=list)
    orphaned: list[MicroApp] = field(default_factory=list)


def is_active_person(user) -> bool:
    return user is not None and bool(user.is_active)


def successor(app: MicroApp, leaving: SignedInUser) -> SignedInUser | None:
    """Who takes ``app`` over from ``leaving``: the co-owner listed first (by when they
    joined Appkeeper, so the choice is stable), else the team lead, if active."""
    for person in sorted(app.co_owners.all(), key=lambda p: (p.date_joined, p.pk)):
        if person.pk != leaving.pk and is_active_person(person):
            return person
    lead = app.team.lead
    if lead is not None and lead.pk != leaving.pk and is_active_person(lead):
        return lead
    return None


def reassign(
    app: MicroApp,
    *,
    to: SignedInUser,
    actor: Actor,
    action: str,
    comment: str = "",
    data: dict | None = None,
) -> AuditEvent:
    """Make ``to`` the owner of ``app`` (dropping them from its co-owners, where the owner
    would be listed twice) and clear an orphaned flag; one audit event says who from."""
    before = app.audit_snapshot()
    was_orphaned = app.orphaned_at is not None
    previous = app.owner
    app.owner = to
    app.orphaned_at = None
    app.save(update_fields=["owner", "orphaned_at", "updated_at"])
    app.co_owners.remove(to)
    after = app.audit_snapshot()
    changes = {k: [before[k], after[k]] for k in after if before[k] != after[k]}
    if was_orphaned:
        changes["orphaned"] = [True, False]
    details = {
        "from": previous.get_username() if previous is not None else None,
        "to": to.get_username(),
        **(data or {}),
    }
    return AuditEvent.record(
        app=app, actor=actor, action=action, changes=changes, comment=comment, data=details
    )


def _tell_the_team(app: MicroApp, *, kind: str, subject: str, body: str, key: str) -> None:
    """The team hears of every handover: its contact address and its webhook, if set."""
    team = app.team
    link = reverse("app-detail", args=[app.slug])
    channels = []
    if team.contact_email:
        channels.append((f"{key}:team", NotificationChannel.EMAIL))
    if team.webhook_url:
        channels.append((f"{key}:webhook", NotificationChannel.WEBHOOK))
    for dedupe_key, channel in channels:
        notify(
            team=team,
            app=app,
            kind=kind,
            subject=subject,
            body=body,
            dedupe_key=dedupe_key,
            channel=channel,
            link=link,
        )


def _tell_new_owner(app: MicroApp, *, leaver: SignedInUser, to: SignedInUser) -> None:
    link = reverse("app-detail", args=[app.slug])
    who = leaver.get_full_name() or leaver.get_username()
    key = f"handover:{app.pk}:{leaver.pk}:{to.pk}"
    notify(
        recipient=to,
        app=app,
        kind=HANDED_OVER,
        subject=f"You now own {app.name}",
        body=(
            f"{who} has left, and you are now the owner of {app.name}. Reminders, reviews "
            "and renewals for it come to you from now on."
        ),
        dedupe_key=f"{key}:owner",
        link=link,
    )
    _tell_the_team(
        app,
        kind=HANDED_OVER,
        subject=f"{app.name} has a new owner",
        body=(f"{who} has left; {to.get_full_name() or to.get_username()} now owns {app.name}."),
        key=key,
    )


def _flag_orphaned(app: MicroApp, *, leaver: SignedInUser, actor: Actor, via: str) -> None:
    before_owner = leaver.get_username()
    app.orphaned_at = timezone.now()
    app.save(update_fields=["orphaned_at", "updated_at"])
    AuditEvent.record(
        app=app,
        actor=actor,
        action=ORPHANED,
        changes={"orphaned": [False, True]},
        comment="The owner left and the app has no active co-owner or team lead.",
        data={"owner": before_owner, "via": via},
    )
    body = (
        f"{app.name} ({app.team.name}) lost its owner {before_owner}, and nobody could take it "
        "over: it has no active co-owner and its team has no active lead. Assign a new owner."
    )
    key = f"orphaned:{app.pk}:{app.orphaned_at.isoformat()}"
    notify_platform_team(
        kind=ORPHANED_NOTICE,
        subject=f"{app.name} has no owner",
        body=body,
        dedupe_key=key,
        app=app,
        link=reverse("app-detail", args=[app.slug]),
    )
    _tell_the_team(
        app, kind=ORPHANED_NOTICE, subject=f"{app.name} has no owner", body=body, key=key
    )


def live_apps_owned_by(user: SignedInUser) -> Iterable[MicroApp]:
    """The leaver's live apps, locked: a bulk transfer running at the same moment either
    moves an app first (and the lock's re-read no longer finds it here) or waits for the
    handover, so neither overwrites the other's new owner."""
    return (
        MicroApp.objects.select_for_update(of=("self",))
        .filter(owner=user)
        .exclude(state=AppState.RETIRED)
        .select_related("team__lead", "owner")
        .prefetch_related("co_owners")
        .order_by("pk")
    )


@transaction.atomic
def hand_over(leaver: SignedInUser, *, actor: Actor, via: str) -> Handover:
    """Give each of ``leaver``'s live apps to its successor, or flag it orphaned; take the
    leaver off the co-owner lists and team leads they held. Retired apps keep their owner:
    they are history."""
    result = Handover()
    for app in live_apps_owned_by(leaver):
        heir = successor(app, leaver)
        if heir is None:
            _flag_orphaned(app, leaver=leaver, actor=actor, via=via)
            result.orphaned.append(app)
            continue
        reassign(
            app,
            to=heir,
            actor=actor,
            action=HANDED_OVER,
            comment=f"{leaver.get_username()} was deactivated ({via}).",
            data={"via": via},
        )
        _tell_new_owner(app, leaver=leaver, to=heir)
        result.handed.append((app, heir))
    for app in leaver.co_owned_apps.exclude(state=AppState.RETIRED):
        before = app.audit_snapshot()
        app.co_owners.remove(leaver)
        AuditEvent.record(
            app=app,
            actor=actor,
            action="updated",
            changes={"co_owners": [before["co_owners"], app.audit_snapshot()["co_owners"]]},
            comment=f"{leaver.get_username()} was deactivated ({via}).",
        )
    # update() skips auto_now: the teams changed, and SCIM's ETag must say so.
    leaver.led_teams.update(lead=None, updated_at=timezone.now())
    return result
