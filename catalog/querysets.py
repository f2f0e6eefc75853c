"""Named reads of the registry, so views and jobs never repeat a filter expression."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from django.db import models
from django.db.models import Case, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from catalog import permissions
from catalog.choices import AppState, NotificationChannel, Risk

# Columns no list row shows (secrets stay out of every list query).
LIST_SKIP = {"ingestion_secret", "previous_ingestion_secret", "previous_secret_valid_until"}

HIGH_RISK = Q(handles_pii=True) | Q(handles_payment_data=True) | Q(externally_exposed=True)


class TeamQuerySet(models.QuerySet):
    def of_user(self, user) -> TeamQuerySet:
        if not user.is_authenticated:
            return self.none()
        return self.filter(members=user)


class JSONTextList(models.Aggregate):
    """The aggregated values as a JSON array in text, on SQLite and PostgreSQL alike (read
    it with ``json.loads``); NULL when there are none."""

    function = "JSON_GROUP_ARRAY"
    output_field = models.TextField()

    def as_postgresql(self, compiler, connection, **extra_context):
        sql, params = self.as_sql(compiler, connection, function="JSON_AGG", **extra_context)
        return f"CAST({sql} AS TEXT)", params


def co_owner_ids_subquery(outer: str = "pk") -> Subquery:
    """The active co-owners' ids of the app ``OuterRef(outer)`` as JSON text (NULL: none)."""
    from catalog.models import MicroApp

    ids = (
        MicroApp.co_owners.through.objects.filter(microapp_id=OuterRef(outer), user__is_active=True)
        .order_by()
        .values("microapp_id")
        .annotate(ids=JSONTextList("user_id"))
        .values("ids")
    )
    return Subquery(ids)


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
        """Apps the user is accountable for: owned or co-owned by them, or by one of their
        teams."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(
            Q(owner=user)
            | Q(team__members=user)
            | Q(pk__in=permissions.co_owned_apps_subquery(user))
        ).distinct()

    def with_co_owner_usernames(self) -> MicroAppQuerySet:
        """Annotate ``co_owners_json``, the co-owners' usernames as a JSON array, in the
        app's own query: a page about one app shows and checks them without a query of
        their own (read them through ``MicroApp.co_owner_usernames``)."""
        from catalog.models import MicroApp

        names = (
            MicroApp.co_owners.through.objects.filter(microapp_id=OuterRef("pk"))
            .order_by()
            .values("microapp_id")
            .annotate(names=JSONTextList("user__username"))
            .values("names")
        )
        return self.annotate(co_owners_json=Subquery(names))

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
        return self.select_related("team", "owner", "backstage_entity").prefetch_related(
            "regions", _dependencies()
        )

    def for_api(self, fields: Collection[str]) -> MicroAppQuerySet:
        """Apps for API answers showing ``fields`` (names of the API's app fields), in a
        number of queries that does not grow with the rows: only the columns those fields
        read (never the secrets), the team and owner joined in only when read, and the
        regions and dependency links prefetched (one query each) only when read, as plain
        lists in ``region_list`` and ``dependency_link_list``."""
        from catalog.models import MicroApp

        own = {f.name for f in MicroApp._meta.concrete_fields} - LIST_SKIP - {"team", "owner"}
        reads = _api_field_reads()
        columns = {"slug"}  # the app's address, read by `url` and lookups
        for name in fields:
            if name in own:
                columns.add(name)
            columns.update(reads.get(name, ()))
        apps = self.only(*columns)
        if joined := {column.split("__")[0] for column in columns if "__" in column}:
            apps = apps.select_related(*sorted(joined))
        if {"regions", "policy_findings"} & set(fields):
            apps = apps.prefetch_related(models.Prefetch("regions", to_attr="region_list"))
        if "co_owners" in fields:
            # In the page's own query: a prefetch would be one query more for every list.
            apps = apps.with_co_owner_usernames()
        if {"depends_on", "dependencies"} & set(fields):
            # One query serves both: the slugs are the links' providers.
            links = dependency_links().only(
                "from_microapp_id",
                "to_microapp__slug",
                "to_microapp__state",
                "uses",
                "version_range",
            )
            apps = apps.prefetch_related(
                models.Prefetch("dependency_links", queryset=links, to_attr="dependency_link_list")
            )
        return apps


def _api_field_reads() -> dict[str, tuple[str, ...]]:
    """What an API field of an app reads besides a column of its own name."""
    from catalog.policies import AppFacts

    return {
        "team": ("team__slug",),
        "owner": ("owner__username",),
        "orphaned": ("orphaned_at",),
        "backstage_ref": ("backstage_entity__ref",),
        "risk": ("handles_pii", "handles_payment_data", "externally_exposed"),
        # The policies read these besides the regions (and the latest contract).
        "policy_findings": (
            *AppFacts.PLAIN_FIELDS,
            "team__slug",
            "owner__username",
            "owner__is_active",
        ),
    }


def _dependencies() -> models.Prefetch:
    """Apps' dependencies in a stable order: by name, and by id among equal names."""
    from catalog.models import MicroApp

    return models.Prefetch("depends_on", queryset=MicroApp.objects.order_by("name", "pk"))


def newest_contracts_first(app) -> models.QuerySet:
    """The contracts of ``app`` (an id or an ``OuterRef``), the current one first: what
    ``catalog.selectors.latest_contract`` answers for one app, as a subquery for many (a
    version scheduled for later is not current yet)."""
    from catalog.models import Contract

    return Contract.objects.filter(app_id=app).in_effect().order_by("-created_at", "-pk")


def dependency_links() -> models.QuerySet:
    """Dependency links with their provider, and the label and date of the provider's
    current contract (``current_version``, ``current_since``; None without a contract),
    by the provider's name and id: one query however many links and providers."""
    from catalog.models import Dependency

    current = newest_contracts_first(OuterRef("to_microapp_id"))
    return (
        Dependency.objects.select_related("to_microapp")
        .annotate(
            current_version=Subquery(current.values("version")[:1]),
            # A scheduled version is current from its effective date, not its upload.
            current_since=Subquery(
                current.annotate(since=Coalesce("effective_at", "created_at")).values("since")[:1]
            ),
        )
        .order_by("to_microapp__name", "to_microapp_id")
    )


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


class NotificationQuerySet(models.QuerySet):
    def in_app_for(self, user) -> NotificationQuerySet:
        """The user's notices as the app lists them: one per notice, so neither the Slack
        copy of one (``messaging.routing``) nor the digest that carried it is listed again."""
        if not getattr(user, "is_authenticated", False):
            return self.none()
        return self.filter(recipient=user).exclude(
            Q(channel=NotificationChannel.SLACK) | Q(kind__in=("digest_daily", "digest_weekly"))
        )

    def unread_for(self, user) -> NotificationQuerySet:
        """The user's notifications not yet read in the app."""
        return self.in_app_for(user).filter(read_at__isnull=True)

    def pending(self, *, max_attempts: int, now: datetime | None = None) -> NotificationQuerySet:
        """Rows to deliver at ``now``: unsent, tried fewer than ``max_attempts`` times, not
        leased to another worker. The outbox drainer owns the limit
        (``catalog.notifications.MAX_ATTEMPTS``)."""
        now = now or timezone.now()
        return self.filter(
            sent_at__isnull=True,
            channel__in=[
                NotificationChannel.EMAIL,
                NotificationChannel.WEBHOOK,
                NotificationChannel.SLACK,
                NotificationChannel.TEAMS,
            ],
            attempts__lt=max_attempts,
            # Held for a digest: the digest delivers it (``messaging.digests``).
            held_until__isnull=True,
        ).filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))


class ContractQuerySet(models.QuerySet):
    def in_effect(self, at: datetime | None = None) -> ContractQuerySet:
        """Versions that have taken effect by ``at`` (now): immediate ones and scheduled
        ones whose time has come. A version scheduled for later is not yet current, and a
        withdrawn one never is, even once its date has passed."""
        at = at or timezone.now()
        return self.filter(
            Q(effective_at__isnull=True) | Q(effective_at__lte=at), withdrawn_at__isnull=True
        )

    def not_withdrawn(self) -> ContractQuerySet:
        return self.filter(withdrawn_at__isnull=True)

    def due_to_take_effect(self, at: datetime | None = None) -> ContractQuerySet:
        """Scheduled versions whose time has come and whose taking effect is not yet
        recorded: the work of ``catalog.activate_scheduled_contracts``."""
        return self.filter(
            effective_at__isnull=False,
            effective_at__lte=at or timezone.now(),
            took_effect_recorded_at__isnull=True,
            withdrawn_at__isnull=True,
        )
