"""What needs a person now, for the weekly digest, read live for a whole batch of people
at once: their apps expiring soon, the open sunset cases on their apps, the reviews
waiting for the platform team, and their apps' grade changes between the last two
quarters scored. Six queries whatever the number of people."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db.models import Q
from django.urls import reverse

from catalog.choices import PLATFORM_GROUP, AppState
from catalog.models import MicroApp, Review
from lifecycle.models import SunsetCase
from scorecards.models import Scorecard

EXPIRING_WITHIN = timedelta(days=30)
# A digest is a summary: beyond this many lines a section points to the page instead.
SECTION_LIMIT = 20


@dataclass
class Facts:
    now: datetime
    expiring: dict[int, list[tuple[str, str, datetime]]] = field(default_factory=dict)
    sunsets: dict[int, list[tuple[str, str, datetime]]] = field(default_factory=dict)
    reviewers: set[int] = field(default_factory=set)
    reviews: list[tuple[str, str, datetime]] = field(default_factory=list)
    # (app name, earlier quarter, its grade, later grade, later quarter)
    grades: dict[int, list[tuple[str, str, str, str, str]]] = field(default_factory=dict)

    def sections_for(self, user_id: int, tz: ZoneInfo) -> list[str]:
        def day(moment: datetime) -> str:
            return f"{moment.astimezone(tz):%a %d %b %Y}"

        out = []
        rows = self.expiring.get(user_id, [])
        if rows:
            lines = [
                f"- {name}: {max((at - self.now).days, 0)} days left, expires {day(at)} "
                f"(renew: {absolute(reverse('lifecycle:app-renew', args=[slug]))})"
                for name, slug, at in rows
            ]
            out.append(section("Expiring within 30 days", lines))
        rows = self.sunsets.get(user_id, [])
        if rows:
            lines = [f"- {name}: answer by {day(at)} ({absolute(link)})" for name, link, at in rows]
            out.append(section("Open sunset cases", lines))
        if user_id in self.reviewers and self.reviews:
            lines = [
                f"- {name}: due {day(at)} ({absolute(link)})" for name, link, at in self.reviews
            ]
            out.append(section("Reviews waiting", lines))
        changed = self.grades.get(user_id, [])
        if changed:
            lines = [
                f"- {name}: {before} in {earlier} → {after} in {later}"
                for name, earlier, before, after, later in changed
            ]
            out.append(section("Scorecard changes", lines))
        return out


def section(title: str, lines: list[str]) -> str:
    more = len(lines) - SECTION_LIMIT
    shown = lines[:SECTION_LIMIT] + ([f"- … and {more} more"] if more > 0 else [])
    return "\n".join([title, *shown])


def absolute(link: str) -> str:
    from catalog.notifications import absolute as absolute_link

    return absolute_link(link)


def people_of(owner_id: int | None, co_owner_id: int | None, wanted: set[int]) -> set[int]:
    return {pk for pk in (owner_id, co_owner_id) if pk is not None and pk in wanted}


def live_facts(user_ids: Iterable[int], *, now: datetime) -> Facts:
    wanted = set(user_ids)
    facts = Facts(now=now)
    if not wanted:
        return facts
    theirs = Q(owner_id__in=wanted) | Q(co_owners__in=wanted)
    expiring: dict[int, dict[str, tuple[str, str, datetime]]] = defaultdict(dict)
    for name, slug, at, owner, co in (
        MicroApp.objects.filter(theirs, state=AppState.ACTIVE, expires_at__gt=now)
        .filter(expires_at__lte=now + EXPIRING_WITHIN)
        .values_list("name", "slug", "expires_at", "owner_id", "co_owners")
        .order_by("expires_at", "pk")
    ):
        for pk in people_of(owner, co, wanted):
            expiring[pk][slug] = (name, slug, at)
    facts.expiring = {pk: list(rows.values()) for pk, rows in expiring.items()}

    sunsets: dict[int, dict[int, tuple[str, str, datetime]]] = defaultdict(dict)
    link = reverse("lifecycle:sunset-cases")
    on_theirs = Q(app__owner_id__in=wanted) | Q(app__co_owners__in=wanted)
    for case, name, at, owner, co in (
        SunsetCase.objects.filter(on_theirs, closed_at__isnull=True)
        .values_list("pk", "app__name", "grace_ends_at", "app__owner_id", "app__co_owners")
        .order_by("grace_ends_at", "pk")
    ):
        for pk in people_of(owner, co, wanted):
            sunsets[pk][case] = (name, link, at)
    facts.sunsets = {pk: list(rows.values()) for pk, rows in sunsets.items()}

    facts.reviewers = set(
        get_user_model()
        .objects.filter(pk__in=wanted, groups__name=PLATFORM_GROUP)
        .values_list("pk", flat=True)
    )
    if facts.reviewers:
        facts.reviews = [
            (name, reverse("review-detail", args=[pk]), due)
            for pk, name, due in Review.objects.filter(decision="")
            .values_list("pk", "app__name", "due_at")
            .order_by("due_at", "pk")[: SECTION_LIMIT + 1]
        ]

    quarters = list(
        Scorecard.objects.order_by("-quarter").values_list("quarter", flat=True).distinct()[:2]
    )
    if len(quarters) == 2:
        later, earlier = quarters
        grades: dict[tuple[int, int], dict[str, str]] = defaultdict(dict)
        names: dict[int, str] = {}
        for app_id, name, quarter, grade, owner, co in Scorecard.objects.filter(
            Q(app__owner_id__in=wanted) | Q(app__co_owners__in=wanted), quarter__in=quarters
        ).values_list("app_id", "app__name", "quarter", "grade", "app__owner_id", "app__co_owners"):
            names[app_id] = name
            for pk in people_of(owner, co, wanted):
                grades[(pk, app_id)][quarter] = grade
        changes: dict[int, list[tuple[str, str, str, str, str]]] = defaultdict(list)
        for (pk, app_id), by_quarter in sorted(grades.items(), key=lambda i: names[i[0][1]]):
            before, after = by_quarter.get(earlier), by_quarter.get(later)
            if before and after and before != after:
                changes[pk].append((names[app_id], earlier, before, after, later))
        facts.grades = dict(changes)
    return facts
