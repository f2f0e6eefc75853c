"""Named reads of the registry, so views and jobs never repeat a filter expression."""

from __future__ import annotations

from datetime import timedelta

from django.db import models
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from catalog import roles
from catalog.choices import AppState, Risk

# Columns no list row shows (secrets stay out of every list query).
LIST_SKIP = {"ingestion_secret", "previous_ingestion_secret", "previous_secret_valid_until"}

HIGH_RISK = Q(handles_pii=True) | Q(handles_payment_data=True) | Q(externally_exposed=True)


class TeamQuerySet(models.QuerySet):
    def of_user(self, user) -> TeamQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(members=user)


class MicroAppQuerySet(models.QuerySet):
    def with_risk(self) -> MicroAppQuerySet:
        """Annotate ``risk_level`` so the database can filter and sort by the derived risk."""
        return self.annotate(
            risk_level=Case(When(HIGH_RISK, then=Value(Risk.HIGH)), default=Value(Risk.LOW))
        )

    def high_risk(self) -> MicroAppQuerySet:
        return self.filter(HIGH_RISK)

    def low_risk(self) -> MicroAppQuerySet:
        return self.exclude(HIGH_RISK)

    def live(self) -> MicroAppQuerySet:
        """Apps that exist for the fleet: everything that is not retired."""
        return self.exclude(state=AppState.RETIRED)

    def in_state(self, *states: str) -> MicroAppQuerySet:
        return self.filter(state__in=states)

    def owned_by(self, user) -> MicroAppQuerySet:
        """Apps the user is accountable for: owned by them or by one of their teams."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(owner=user) | Q(team__members=user)).distinct()

    def visible_to(self, user) -> MicroAppQuerySet:
        """Everything is browsable by signed-in users except other teams' drafts, which are
        work in progress and private to the owning team and the platform team."""
        if not user.is_authenticated:
            return self.none()
        if roles.is_platform(user):  # cached on the user for the rest of the request
            return self
        mine = Q(owner=user) | Q(team__in=user.appkeeper_teams.values("pk"))
        return self.filter(~Q(state=AppState.DRAFT) | mine)

    def expiring_within(self, days: int) -> MicroAppQuerySet:
        now = timezone.now()
        return self.filter(
            state=AppState.ACTIVE, expires_at__gte=now, expires_at__lte=now + timedelta(days=days)
        )

    def for_list(self) -> MicroAppQuerySet:
        """What a list row shows, fetched in a fixed number of queries."""
        return self.select_related("team", "owner").prefetch_related("regions", "depends_on")

    def for_api_list(self) -> MicroAppQuerySet:
        """A page of the API list: the row's own columns (no secrets), the team's slug and
        the owner's username. Read-only rows: the list serializer loads the page's regions
        and dependencies in one query each (``MicroAppListSerializer``); writes and the
        detail use ``for_list``."""
        from catalog.models import MicroApp

        columns = [f.name for f in MicroApp._meta.concrete_fields if f.name not in LIST_SKIP]
        return self.select_related("team", "owner").only(*columns, "team__slug", "owner__username")


class ReviewQuerySet(models.QuerySet):
    def open(self) -> ReviewQuerySet:
        return self.filter(decision="")

    def overdue(self, now=None) -> ReviewQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())

    def visible_to(self, user) -> ReviewQuerySet:
        """The platform team sees every review; owners and team members their apps'."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        if roles.is_platform(user):
            return self
        return self.filter(Q(app__owner=user) | Q(app__team_id__in=roles.team_ids(user)))

    def for_list(self) -> ReviewQuerySet:
        """What a queue row shows, in one query."""
        return self.select_related("app", "app__team", "app__owner", "requested_by", "reviewer")
