"""What happens to apps: the audit trail, contract versions, reviews and the notification outbox."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.db import models
from django.utils import timezone

from catalog.choices import (
    ContractKind,
    ContractStatus,
    NotificationChannel,
    ReviewDecision,
)
from catalog.models.common import free_text
from catalog.querysets import (
    ContractQuerySet,
    NotificationQuerySet,
    ReviewQuerySet,
)
from contracts import with_current_ids
from core.context import current_request_id


class AuditEvent(models.Model):
    """One change to an app: who, when, from which request, and the before/after values."""

    app = models.ForeignKey(
        "catalog.MicroApp",
        on_delete=models.PROTECT,
        related_name="audit_events",
        null=True,
        blank=True,
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    action = models.CharField(max_length=50, db_index=True)
    at = models.DateTimeField(default=timezone.now, db_index=True)
    request_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    comment = models.TextField(blank=True)
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["app", "-at"])]

    def __str__(self) -> str:
        return f"{self.action} {self.app} at {self.at:%Y-%m-%d %H:%M}"

    @classmethod
    def build(
        cls,
        *,
        app,
        actor,
        action: str,
        changes: dict | None = None,
        comment: str = "",
        data: dict | None = None,
    ) -> AuditEvent:
        """An unsaved event (for writers that insert many at once with ``bulk_create``)."""
        actor = actor if getattr(actor, "is_authenticated", False) else None
        return cls(
            app=app,
            actor=actor,
            action=action,
            changes=changes or {},
            comment=comment,
            data=data or {},
            request_id=current_request_id(),
        )

    @classmethod
    def record(
        cls,
        *,
        app,
        actor,
        action: str,
        changes: dict | None = None,
        comment: str = "",
        data: dict | None = None,
    ) -> AuditEvent:
        event = cls.build(
            app=app, actor=actor, action=action, changes=changes, comment=comment, data=data
        )
        event.save(force_insert=True)
        return event


class Contract(models.Model):
    """One immutable version of an app's API contract."""

    app = models.ForeignKey("catalog.MicroApp", on_delete=models.PROTECT, related_name="contracts")
    kind = models.CharField(max_length=10, choices=ContractKind.choices)
    version = models.CharField(max_length=50)
    document = models.JSONField(null=True, blank=True, help_text="Normalised OpenAPI document.")
    sdl = models.TextField(blank=True, help_text="Normalised GraphQL SDL.")
    sha256 = models.CharField(max_length=64)
    spec_version = models.CharField(max_length=20, blank=True)
    is_valid = models.BooleanField(default=True)
    errors = models.JSONField(default=list, blank=True)
    changes = models.JSONField(
        default=list, blank=True, help_text="Changes against the previous version, worst first."
    )
    change_counts = models.JSONField(
        default=dict, blank=True, help_text="Number of changes per level, also past the cap."
    )
    breaking = models.BooleanField(default=False)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    created_at = models.DateTimeField(default=timezone.now)
    # Null: current from its upload. Set: a breaking version's migration window ends then,
    # and until that moment the version before it stays current.
    effective_at = models.DateTimeField(null=True, blank=True)
    # When the job recorded a scheduled version taking effect and told its dependents.
    took_effect_recorded_at = models.DateTimeField(null=True, blank=True)
    # Why the platform team let breaking changes take effect without the full window.
    override_reason = free_text(blank=True)
    # Withdrawn before it took effect: it never becomes current and the next upload is not
    # diffed against it, but it stays, so its page, its notices and its label still hold.
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    withdrawn_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    withdrawn_reason = free_text(blank=True)

    objects = ContractQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(
                fields=["effective_at"],
                condition=models.Q(
                    took_effect_recorded_at__isnull=True, effective_at__isnull=False
                ),
                name="contract_scheduled_idx",
            )
        ]
        constraints = [
            # Withdrawn versions keep their content but let it be uploaded again.
            models.UniqueConstraint(
                fields=["app", "sha256"],
                condition=models.Q(withdrawn_at__isnull=True),
                name="contract_unique_content",
            ),
            models.UniqueConstraint(fields=["app", "version"], name="contract_unique_version"),
        ]

    def __str__(self) -> str:
        return f"{self.app.slug} {self.version}"

    @classmethod
    def from_db(cls, db, field_names, values):
        contract = super().from_db(db, field_names, values)
        # Versions stored before the rule ids followed oasdiff's current names read under
        # today's names, so pages, notices and the API agree with a fresh diff.
        if "changes" not in contract.get_deferred_fields() and isinstance(contract.changes, list):
            contract.changes = with_current_ids(contract.changes)
        return contract

    @staticmethod
    def digest(text: str) -> str:
        return hashlib.sha256(text.encode()).hexdigest()

    @property
    def is_scheduled(self) -> bool:
        """Uploaded, but not current before ``effective_at`` (and not withdrawn)."""
        return (
            self.withdrawn_at is None
            and self.effective_at is not None
            and self.effective_at > timezone.now()
        )

    @property
    def is_withdrawn(self) -> bool:
        return self.withdrawn_at is not None

    @property
    def takes_effect_at(self):
        return self.effective_at or self.created_at

    @property
    def status(self) -> str:
        if self.withdrawn_at is not None:
            return ContractStatus.WITHDRAWN
        return ContractStatus.SCHEDULED if self.is_scheduled else ContractStatus.EFFECTIVE


class ContractAcknowledgement(models.Model):
    """A dependent's owners saying they have seen a breaking version and will be ready."""

    contract = models.ForeignKey(
        Contract, on_delete=models.PROTECT, related_name="acknowledgements"
    )
    dependent = models.ForeignKey(
        "catalog.MicroApp", on_delete=models.PROTECT, related_name="contract_acknowledgements"
    )
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    acknowledged_at = models.DateTimeField(default=timezone.now)
    comment = free_text(blank=True)

    class Meta:
        ordering = ["acknowledged_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "dependent"], name="contract_ack_once_per_dependent"
            )
        ]

    def __str__(self) -> str:
        return f"{self.dependent_id} acknowledged {self.contract}"


class Review(models.Model):
    """A platform-team review of a high-risk app, due 48 hours after submission."""

    app = models.ForeignKey("catalog.MicroApp", on_delete=models.PROTECT, related_name="reviews")
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    requested_at = models.DateTimeField(default=timezone.now)
    due_at = models.DateTimeField(db_index=True)
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reviews_decided",
    )
    decision = models.CharField(max_length=20, choices=ReviewDecision.choices, blank=True)
    comment = free_text(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = ReviewQuerySet.as_manager()

    class Meta:
        ordering = ["due_at", "pk"]
        constraints = [
            # At most one open review per app, whatever races happen on submit.
            models.UniqueConstraint(
                fields=["app"], condition=models.Q(decision=""), name="review_one_open_per_app"
            )
        ]

    def __str__(self) -> str:
        return f"Review of {self.app} due {self.due_at:%Y-%m-%d %H:%M}"

    @property
    def is_open(self) -> bool:
        return not self.decision

    @property
    def is_overdue(self) -> bool:
        return self.is_open and self.due_at < timezone.now()


class Notification(models.Model):
    """An outbox row: a message to one recipient, sent at most once thanks to its dedupe key."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    team = models.ForeignKey("catalog.Team", on_delete=models.CASCADE, null=True, blank=True)
    app = models.ForeignKey(
        "catalog.MicroApp",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="notifications",
    )
    kind = models.CharField(max_length=50)
    channel = models.CharField(
        max_length=10, choices=NotificationChannel.choices, default=NotificationChannel.EMAIL
    )
    subject = models.CharField(max_length=200)
    body = models.TextField()
    link = models.CharField(max_length=300, blank=True)
    dedupe_key = models.CharField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True, db_index=True)
    read_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # Held for the recipient's daily or weekly digest: not sent on its own before this
    # moment; the digest that carried it is ``digest`` (and it is then marked sent).
    held_until = models.DateTimeField(null=True, blank=True, db_index=True)
    digest = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="digested"
    )

    objects = NotificationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return self.subject
