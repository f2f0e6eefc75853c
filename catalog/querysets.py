"""Named reads of the registry, so views and jobs never repeat a filter expression."""

from __future__ import annotations

from datetime import timedelta

from django.db import connections, models
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.utils import timezone

from catalog import permissions
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
        """Apps the user may see: ``catalog.permissions.can_view_app`` as a filter."""
        rule = permissions.visible_apps_filter(user)
        return self if rule is None else self.filter(rule)

    def expiring_within(self, days: int) -> MicroAppQuerySet:
        now = timezone.now()
        return self.filter(
            state=AppState.ACTIVE, expires_at__gte=now, expires_at__lte=now + timedelta(days=days)
        )

    def for_list(self) -> MicroAppQuerySet:
        """What a list row shows, fetched in a fixed number of queries."""
        return self.select_related("team", "owner").prefetch_related("regions", "depends_on")

    def for_api_list(self) -> MicroAppQuerySet:
        """A page of the API list as dict rows, in one query: the app's own columns (no
        secrets), the team's slug and the owner's username (``list_team``, ``list_owner``)
        and, on PostgreSQL, the regions' codes and the dependencies' slugs as arrays
        (``LIST_ARRAYS``). Dicts, not instances: building 100 models of 30 fields costs
        more than the query. On SQLite the list serializer reads the arrays in
        one query each; writes and the detail use ``for_list``."""
        from catalog.models import MicroApp

        columns = [f.name for f in MicroApp._meta.concrete_fields if f.name not in LIST_SKIP]
        # Scalar subqueries rather than joins: the paginator's COUNT drops unused
        # annotations, but not joins.
        annotations = {
            "list_team": _column_of("team", "slug"),
            "list_owner": _column_of("owner", "username"),
        }
        if connections[self.db].vendor == "postgresql":
            from django.contrib.postgres.expressions import ArraySubquery

            for name, (annotation, attr) in LIST_ARRAYS.items():
                field = MicroApp._meta.get_field(name)
                source, target = field.m2m_field_name(), field.m2m_reverse_field_name()
                related = field.remote_field.through.objects.filter(**{source: OuterRef("pk")})
                annotations[annotation] = ArraySubquery(
                    related.order_by(*m2m_ordering(field), f"{target}_id").values(
                        f"{target}__{attr}"
                    )
                )
        return self.annotate(**annotations).values(*columns, *annotations)


# many-to-many field -> (the for_api_list annotation holding its values, the value's column)
LIST_ARRAYS = {"regions": ("list_regions", "code"), "depends_on": ("list_depends_on", "slug")}


def _column_of(foreign_key: str, column: str) -> Subquery:
    from catalog.models import MicroApp

    related = MicroApp._meta.get_field(foreign_key).related_model
    return Subquery(
        related._base_manager.filter(pk=OuterRef(foreign_key)).order_by().values(column)[:1]
    )


def m2m_ordering(field) -> list[str]:
    """The through table's order_by() terms that list a many-to-many in the related
    model's default ordering, as ``app.<field>.all()`` gives them."""
    target = field.m2m_reverse_field_name()
    return [
        f"-{target}__{term[1:]}" if term.startswith("-") else f"{target}__{term}"
        for term in field.related_model._meta.ordering
    ]


class ReviewQuerySet(models.QuerySet):
    def open(self) -> ReviewQuerySet:
        return self.filter(decision="")

    def overdue(self, now=None) -> ReviewQuerySet:
        return self.open().filter(due_at__lt=now or timezone.now())

    def visible_to(self, user) -> ReviewQuerySet:
        """Reviews the user may see: ``catalog.permissions.can_view_review`` as a filter."""
        rule = permissions.visible_reviews_filter(user)
        return self if rule is None else self.filter(rule)

    def for_list(self) -> ReviewQuerySet:
        """What a queue row shows, in one query."""
        return self.select_related("app", "app__team", "app__owner", "requested_by", "reviewer")
