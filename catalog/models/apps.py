"""The registered micro-app: its data, invariants and state transitions."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from decimal import Decimal
from functools import reduce
from operator import or_

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import (
    MaxValueValidator,
    MinValueValidator,
)
from django.db import models
from django.urls import reverse
from django.utils import timezone

from catalog import policies
from catalog.choices import (
    AppKind,
    AppState,
    Criticality,
    Environment,
    Jurisdiction,
    Risk,
    SupportHours,
)
from catalog.models.common import (
    FREE_TEXT_MAX,
    Transition,
    TransitionError,
    free_text,
    no_control_characters,
    slug_validator,
)
from catalog.models.records import AuditEvent
from catalog.models.teams import Region, Team
from catalog.querysets import (
    MicroAppQuerySet,
)


class MicroApp(models.Model):
    """A registered micro-app: who owns it, what it touches, where it runs, how long it lives."""

    name = models.CharField(max_length=120, validators=[no_control_characters])
    slug = models.SlugField(max_length=80, unique=True, validators=[slug_validator])
    description = free_text(blank=True)
    kind = models.CharField(max_length=20, choices=AppKind.choices)
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="apps")
    # Empty for an app its team owns as a whole (a Backstage Component owned by a group
    # whose team has no lead): the team's lead, members and contact answer for it.
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="owned_apps",
        null=True,
        blank=True,
    )
    # Share the owner's rights and duties; the first active one takes the app over when
    # the owner leaves (``catalog.ownership``).
    co_owners = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="co_owned_apps", blank=True
    )
    # Set when the owner left and nobody could take the app over: the platform team
    # assigns a new owner, which clears it.
    orphaned_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Its maintainers said it should no longer be used (Backstage ``lifecycle: deprecated``):
    # pages warn, and new dependencies on it are discouraged.
    deprecated = models.BooleanField(default=False)
    contact = models.CharField(max_length=200, blank=True)
    runtime = models.CharField(max_length=50, blank=True)
    environment = models.CharField(
        max_length=20, choices=Environment.choices, default=Environment.SANDBOX
    )
    criticality = models.CharField(
        max_length=20, choices=Criticality.choices, default=Criticality.STANDARD
    )
    handles_pii = models.BooleanField(default=False)
    handles_payment_data = models.BooleanField(default=False)
    externally_exposed = models.BooleanField(default=False)
    data_residency = models.CharField(max_length=8, choices=Jurisdiction.choices, blank=True)
    regions = models.ManyToManyField(Region, related_name="apps", blank=True)
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        related_name="dependents",
        blank=True,
        through="catalog.Dependency",
        through_fields=("from_microapp", "to_microapp"),
    )
    sla_availability = models.DecimalField(
        "availability target (%)",
        max_digits=6,
        decimal_places=3,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("50")), MaxValueValidator(Decimal("100"))],
    )
    sla_p95_ms = models.PositiveIntegerField(
        "p95 latency target (ms)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(600_000)],
    )
    sla_support_hours = models.CharField(max_length=20, choices=SupportHours.choices, blank=True)
    docs_url = models.URLField(blank=True)
    runbook_url = models.URLField(blank=True)
    repository_url = models.URLField(blank=True)
    tags = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=20, choices=AppState.choices, default=AppState.DRAFT, db_index=True
    )
    went_live_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_seen_at = models.DateTimeField(null=True, blank=True)
    retired_at = models.DateTimeField(null=True, blank=True)
    retired_reason = free_text(blank=True)
    # Standard Webhooks needs the raw secret to verify HMACs, so it cannot be hashed.
    ingestion_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_ingestion_secret = models.CharField(max_length=80, blank=True, editable=False)
    previous_secret_valid_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = MicroAppQuerySet.as_manager()

    # Not a column: the policy findings of the last save through ``catalog.services``, left
    # on the instance for the caller to show (absent on an app read from the database).
    policy_findings: list[policies.Finding]

    # The fields an AuditEvent compares before and after a change.
    AUDITED_FIELDS = (
        "name",
        "slug",
        "description",
        "kind",
        "team",
        "owner",
        "co_owners",
        "contact",
        "runtime",
        "environment",
        "criticality",
        "handles_pii",
        "handles_payment_data",
        "externally_exposed",
        "data_residency",
        "regions",
        "depends_on",
        "dependency_details",
        "sla_availability",
        "sla_p95_ms",
        "sla_support_hours",
        "docs_url",
        "runbook_url",
        "repository_url",
        "tags",
        "state",
        "expires_at",
        "retired_reason",
    )

    class Meta:
        ordering = ["name"]
        indexes = [
            models.Index(fields=["team", "state"]),
            # Lists are ordered by name: a page is an index walk, not a sort of the fleet.
            models.Index(fields=["name"], name="catalog_app_name_idx"),
            # A state filter (the list's most common) counts from this index alone and walks
            # it in name order for a page; `id` makes the count an index-only scan.
            models.Index(fields=["state", "name", "id"], name="catalog_app_state_name_idx"),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("app-detail", args=[self.slug])

    # --- derived facts -------------------------------------------------------------------

    @property
    def is_high_risk(self) -> bool:
        return self.handles_pii or self.handles_payment_data or self.externally_exposed

    @property
    def risk(self) -> str:
        return Risk.HIGH if self.is_high_risk else Risk.LOW

    @property
    def risk_reasons(self) -> list[str]:
        reasons = []
        if self.handles_pii:
            reasons.append("handles personal data")
        if self.handles_payment_data:
            reasons.append("handles payment data")
        if self.externally_exposed:
            reasons.append("is exposed outside the company")
        return reasons

    @property
    def co_owner_usernames(self) -> list[str] | None:
        """The co-owners' usernames, sorted, when the app was read
        ``with_co_owner_usernames()``; None when it was not (ask ``co_owners`` then)."""
        if not hasattr(self, "co_owners_json"):
            return None
        return sorted(json.loads(self.co_owners_json or "[]"))

    @property
    def is_orphaned(self) -> bool:
        return self.orphaned_at is not None

    @property
    def has_sla(self) -> bool:
        return bool(self.sla_availability and self.sla_p95_ms and self.sla_support_hours)

    @property
    def expires(self) -> bool:
        """Critical apps are re-certified yearly instead of expiring after a quarter."""
        return self.criticality != Criticality.CRITICAL

    def clean(self) -> None:
        errors = policies.pii_residency_errors(
            handles_pii=self.handles_pii, data_residency=self.data_residency
        )
        if errors:
            raise ValidationError(errors)

    def audit_snapshot(self) -> dict:
        """The audited fields as JSON-ready values, for before/after comparisons."""
        snapshot: dict = {}
        for name in self.AUDITED_FIELDS:
            if name in ("regions", "depends_on"):
                if self.pk is None:
                    snapshot[name] = []
                else:
                    key = "code" if name == "regions" else "slug"
                    snapshot[name] = sorted(getattr(o, key) for o in getattr(self, name).all())
            elif name == "dependency_details":
                snapshot[name] = self._dependency_details()
            elif name == "team":
                snapshot[name] = self.team.slug if self.team_id else None
            elif name == "owner":
                snapshot[name] = self.owner.get_username() if self.owner_id else None
            elif name == "co_owners":
                people = [] if self.pk is None else self.co_owners.all()
                snapshot[name] = sorted(person.get_username() for person in people)
            else:
                value = getattr(self, name)
                if hasattr(value, "isoformat"):
                    value = value.isoformat()
                elif isinstance(value, Decimal):
                    value = str(value)
                snapshot[name] = value
        return snapshot

    def _dependency_details(self) -> dict:
        """How the app uses each dependency that says so: ``{slug: {"uses": [...],
        "version_range": "..."}}``. Bare links are already in ``depends_on``."""
        if self.pk is None:
            return {}
        links = self.dependency_links.select_related("to_microapp").only(
            "uses", "version_range", "to_microapp__slug"
        )
        return {
            link.to_microapp.slug: {"uses": link.uses, "version_range": link.version_range}
            for link in sorted(links, key=lambda link: link.to_microapp.slug)
            if link.uses or link.version_range
        }

    # --- transitions ---------------------------------------------------------------------

    # Every state change an app can make: action (also the AuditEvent's action) -> the
    # states it may start from and the state it ends in. The methods below and the bulk
    # jobs (:meth:`transition_many`) both go through this table.
    TRANSITIONS = {
        "activated": Transition(
            frozenset({AppState.DRAFT, AppState.IN_REVIEW, AppState.SUNSETTING, AppState.EXPIRED}),
            AppState.ACTIVE,
            "activate",
        ),
        "submitted": Transition(frozenset({AppState.DRAFT}), AppState.IN_REVIEW, "submit"),
        "changes_requested": Transition(
            frozenset({AppState.IN_REVIEW}), AppState.DRAFT, "request changes to"
        ),
        "expired": Transition(frozenset({AppState.ACTIVE}), AppState.EXPIRED, "expire"),
        "sunset_started": Transition(
            frozenset({AppState.ACTIVE, AppState.EXPIRED}), AppState.SUNSETTING, "sunset"
        ),
        "retired": Transition(
            frozenset(s for s in AppState.values if s != AppState.RETIRED),
            AppState.RETIRED,
            "retire",
        ),
    }

    def _transition_event(
        self,
        before: str,
        action: str,
        *,
        by,
        comment: str,
        fields: Iterable[str],
        data: dict | None,
    ) -> AuditEvent:
        """The unsaved AuditEvent of a transition: the state change plus the given fields."""
        changes = {"state": [before, self.state]}
        for field in fields:
            value = getattr(self, field)
            changes[field] = [None, value.isoformat() if hasattr(value, "isoformat") else value]
        return AuditEvent.build(
            app=self, actor=by, action=action, changes=changes, comment=comment, data=data
        )

    def _move(
        self,
        action: str,
        *,
        by,
        comment: str = "",
        extra_fields: tuple[str, ...] = (),
        data: dict | None = None,
    ) -> None:
        """Change state after checking the source state, save the given fields and record it."""
        transition = self.TRANSITIONS[action]
        if self.state not in transition.sources:
            raise TransitionError(
                f"Cannot {transition.verb} an app that is {self.get_state_display().lower()}.",
                code="invalid_transition",
            )
        before = self.state
        self.state = transition.target
        self.save(update_fields=("state", "updated_at", *extra_fields))
        self._transition_event(
            before, action, by=by, comment=comment, fields=extra_fields, data=data
        ).save(force_insert=True)

    @classmethod
    def transition_many(
        cls,
        apps: Iterable[MicroApp],
        *,
        action: str,
        by=None,
        comment: str = "",
        values: dict | None = None,
        data_for: Callable[[MicroApp], dict] | None = None,
        now=None,
    ) -> list[MicroApp]:
        """Move many apps through ``action`` in two statements, whatever their number:
        what :meth:`_move` does one app at a time, for the daily jobs.

        Apps the table does not allow to make the move are left out. The UPDATE only
        changes rows still in the state each app was read in, so callers lock the rows
        first (``select_for_update``) for the audit trail to match. ``values`` are more
        fields set on every app and recorded like ``_move``'s extra fields; ``data_for``
        gives each AuditEvent's data. Returns the apps moved, updated in memory.
        """
        transition = cls.TRANSITIONS[action]
        moving = [app for app in apps if app.state in transition.sources]
        if not moving:
            return []
        now = now or timezone.now()
        values = values or {}
        read_in: dict[str, list[int]] = defaultdict(list)
        for app in moving:
            read_in[app.state].append(app.pk)
        still = reduce(or_, (models.Q(state=state, pk__in=pks) for state, pks in read_in.items()))
        cls.objects.filter(still).update(state=transition.target, updated_at=now, **values)
        events = []
        for app in moving:
            before = app.state
            app.state, app.updated_at = transition.target, now
            for field, value in values.items():
                setattr(app, field, value)
            events.append(
                app._transition_event(
                    before,
                    action,
                    by=by,
                    comment=comment,
                    fields=tuple(values),
                    data=data_for(app) if data_for else None,
                )
            )
        AuditEvent.objects.bulk_create(events)
        return moving

    def next_expiry(self, start=None):
        start = start or timezone.now()
        days = settings.APPKEEPER_EXPIRY_DAYS if self.expires else settings.APPKEEPER_RECERTIFY_DAYS
        return start + timedelta(days=days)

    def activate(self, *, by, comment: str = "", data: dict | None = None) -> None:
        """Go live: start the expiry (or re-certification) clock."""
        now = timezone.now()
        if self.went_live_at is None:
            self.went_live_at = now
        self.expires_at = self.next_expiry(now)
        self._move(
            "activated",
            by=by,
            comment=comment,
            extra_fields=("went_live_at", "expires_at"),
            data=data,
        )

    def send_to_review(self, *, by) -> None:
        self._move("submitted", by=by)

    def return_to_draft(self, *, by, comment: str) -> None:
        self._move("changes_requested", by=by, comment=comment)

    def expire(self, *, by=None) -> None:
        self._move("expired", by=by)

    def start_sunset(self, *, by=None, reason: str = "") -> None:
        self._move("sunset_started", by=by, comment=reason)

    def retire(self, *, by, reason: str, data: dict | None = None) -> None:
        """Take the app out of the fleet for good; all its data and history stay."""
        if not reason.strip():
            raise ValidationError({"reason": "Say why the app is retired."})
        if len(reason) > FREE_TEXT_MAX:
            raise ValidationError({"reason": f"Keep the reason under {FREE_TEXT_MAX} characters."})
        self.retired_at = timezone.now()
        self.retired_reason = reason
        self._move(
            "retired",
            by=by,
            comment=reason,
            extra_fields=("retired_at", "retired_reason"),
            data=data,
        )
