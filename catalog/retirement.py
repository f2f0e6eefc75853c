"""Retiring an app that other apps call: who would be left calling it, the confirmation a
retirement needs while there are any, and the dependencies a retirement leaves dangling.

An app that live apps depend on is never retired by accident: every way to retire one by
hand (the API, the retire page, an accepted or decided sunset case) must name each live
direct dependent, and the hourly sunset job hands such an app to the platform team instead
of retiring it. "On a retired app" is never stored: it is a dependency whose provider is
retired, read here whenever it is shown.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Collection, Iterable

from catalog.choices import AppState, NotificationChannel
from catalog.impact import IMPACT_STATES
from catalog.models import Dependency, MicroApp, Notification, TransitionError
from catalog.notifications import answering_person_id, queue

DEPENDENTS_NOT_CONFIRMED = "dependents_not_confirmed"


class DependentsNotConfirmed(TransitionError):
    """A retirement that does not name exactly the live apps calling the app (409)."""

    def __init__(self, app: MicroApp, dependents: list[MicroApp]):
        self.dependents = dependents
        names = ", ".join(f"{d.name} ({d.slug})" for d in dependents)
        super().__init__(
            f"{len(dependents)} live app{'s' if len(dependents) != 1 else ''} call "
            f"{app.name}: {names}. Confirm each of them to retire it.",
            code=DEPENDENTS_NOT_CONFIRMED,
        )

    @property
    def payload(self) -> dict:
        """What the API adds to the 409 answer: the apps to confirm, by slug."""
        return {"dependents": [dependent_summary(app) for app in self.dependents]}


def dependent_summary(app: MicroApp) -> dict:
    return {
        "slug": app.slug,
        "name": app.name,
        "state": app.state,
        "team": app.team.slug,
        "owner": app.owner.get_username() if app.owner_id else None,
    }


def live_dependents_by_provider(provider_ids: Iterable[int]) -> dict[int, list[MicroApp]]:
    """The live apps calling each of ``provider_ids`` directly, by name, with their owner
    and team: one query for any number of providers (the hourly job asks for many)."""
    ids = list(provider_ids)
    if not ids:
        return {}
    links = (
        Dependency.objects.filter(to_microapp_id__in=ids, from_microapp__state__in=IMPACT_STATES)
        .select_related("from_microapp__owner", "from_microapp__team")
        .order_by("from_microapp__name", "from_microapp_id")
    )
    found: dict[int, list[MicroApp]] = defaultdict(list)
    for link in links:
        # An app listed as its own dependency would otherwise block its own retirement.
        if link.from_microapp_id != link.to_microapp_id:
            found[link.to_microapp_id].append(link.from_microapp)
    return dict(found)


def live_dependents(app: MicroApp) -> list[MicroApp]:
    """The live apps calling ``app`` directly, by name (one query)."""
    return live_dependents_by_provider([app.pk]).get(app.pk, [])


def require_confirmation(app: MicroApp, confirmed: Collection[str] | None) -> list[MicroApp]:
    """Refuse to retire ``app`` unless ``confirmed`` names exactly its live direct
    dependents (by slug); returns them. A list that names an app no longer calling it is
    refused too: it was read from a page that is out of date. Without live dependents
    nothing is asked."""
    dependents = live_dependents(app)
    if not dependents:
        return []
    given = {str(slug).strip() for slug in confirmed or ()} - {""}
    if given != {d.slug for d in dependents}:
        raise DependentsNotConfirmed(app, dependents)
    return dependents


def retired_providers(app: MicroApp) -> list[MicroApp]:
    """The retired apps ``app`` still calls, most recently retired first (one query)."""
    return [
        link.to_microapp
        for link in Dependency.objects.filter(
            from_microapp=app, to_microapp__state=AppState.RETIRED
        )
        .exclude(to_microapp=app)
        .select_related("to_microapp")
        .order_by("-to_microapp__retired_at", "to_microapp__name")
    ]


def confirmed_data(dependents: list[MicroApp]) -> dict | None:
    """What the ``retired`` audit event keeps of a confirmed retirement: the apps that
    still called it, so the trail shows who was knowingly left calling a retired app."""
    if not dependents:
        return None
    return {"confirmed_dependents": [d.slug for d in dependents]}


def dependent_owner_notices(
    *,
    provider: MicroApp,
    dependents: list[MicroApp],
    kind: str,
    message: Callable[[list[MicroApp]], tuple[str, str]],
    dedupe_key: str,
) -> list[Notification]:
    """Unsaved outbox rows about ``provider`` for the people behind the apps calling it:
    one per owner and one per team (its contact address, its webhook), each naming only
    their apps; ``message(apps)`` gives the subject and body. Dependents' owner and team
    must be loaded. A team-owned dependent's person is its team lead; with no lead either,
    the team's own copy is the one that reaches it."""
    by_owner: dict[int, list[MicroApp]] = defaultdict(list)
    by_team: dict[int, list[MicroApp]] = defaultdict(list)
    for app in dependents:
        person = answering_person_id(app)
        if person is not None:
            by_owner[person].append(app)
        by_team[app.team_id].append(app)
    link = provider.get_absolute_url()

    def common(apps: list[MicroApp]) -> dict:
        subject, body = message(apps)
        return {"app": provider, "kind": kind, "subject": subject, "body": body, "link": link}

    notes = [
        Notification(
            recipient_id=owner_id,
            dedupe_key=f"{dedupe_key}:owner:{owner_id}"[:200],
            **common(apps),
        )
        for owner_id, apps in by_owner.items()
    ]
    for team_id, apps in by_team.items():
        team = apps[0].team
        if team.contact_email:
            notes.append(
                Notification(
                    team=team, dedupe_key=f"{dedupe_key}:team:{team_id}"[:200], **common(apps)
                )
            )
        if team.webhook_url:
            notes.append(
                Notification(
                    team=team,
                    channel=NotificationChannel.WEBHOOK,
                    dedupe_key=f"{dedupe_key}:webhook:{team_id}"[:200],
                    **common(apps),
                )
            )
    return notes


def tell_dependents_of_retirement(app: MicroApp, dependents: list[MicroApp]) -> None:
    """Queue, in the retiring transaction, the notice that ``app`` is retired to the people
    behind each confirmed dependent: their app now calls a retired app."""
    if not dependents:
        return

    def message(apps: list[MicroApp]) -> tuple[str, str]:
        mine = ", ".join(a.name for a in apps)
        verb = "calls" if len(apps) == 1 else "call"
        return (
            f"{app.name}, which {mine} {verb}, is retired",
            f"{app.name} ({app.team.name}) was retired: {app.retired_reason}\n\n{mine} "
            f"still {verb} it. Remove or replace the dependency: until then "
            f"{'its' if len(apps) == 1 else 'their'} page, go-live checklist and scorecard "
            "show it as a dependency on a retired app.",
        )

    queue(
        dependent_owner_notices(
            provider=app,
            dependents=dependents,
            kind="dependency_retired",
            message=message,
            dedupe_key=f"retired:{app.pk}:dependents",
        )
    )
