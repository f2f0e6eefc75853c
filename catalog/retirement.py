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
from collections.abc import Collection, Iterable

from catalog.choices import AppState
from catalog.impact import IMPACT_STATES
from catalog.models import Dependency, MicroApp, TransitionError

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
        "owner": app.owner.get_username(),
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
