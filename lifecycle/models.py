"""What happens to an app over time: usage it reports, renewals, reminders, sunset cases."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.choices import Criticality
from catalog.models import MicroApp, Region
from lifecycle.choices import (
    SunsetDecision,
    SunsetOutcome,
    SunsetReason,
    SunsetResponse,
    SunsetStatus,
)
from lifecycle.querysets import ReminderQuerySet, SunsetCaseQuerySet, UsageReportQuerySet


class UsageReport(models.Model):
    """Daily rollup of one app's traffic and cost in one region (upserted by telemetry)."""

    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="usage_reports")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="usage_reports")
    date = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    p95_ms = models.FloatField(null=True, blank=True)
    cost = models.DecimalField(
        max_digits=14,
        decimal_places=4,
        default=Decimal("0"),
        validators=[MinValueValidator(Decimal("0"))],
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = UsageReportQuerySet.as_manager()

    class Meta:
        ordering = ["-date", "app_id", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "date", "region"], name="usage_one_per_day")
        ]
        indexes = [models.Index(fields=["date", "app"])]

    def __str__(self) -> str:
        return f"{self.app_id} {self.region_id} {self.date}"


class Renewal(models.Model):
    """An owner's statement that an app is still needed, extending its expiry; kept forever."""

    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="renewals")
    renewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="renewals"
    )
    justification = models.TextField()
    renewed_at = models.DateTimeField(default=timezone.now)
    previous_state = models.CharField(max_length=20)
    previous_expires_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField()

    class Meta:
        ordering = ["-renewed_at", "-pk"]
        indexes = [models.Index(fields=["app", "-renewed_at"])]

    def __str__(self) -> str:
        return f"{self.app} renewed until {self.expires_at:%Y-%m-%d}"


class Reminder(models.Model):
    """One expiry reminder sent for one expiry period.

    The period is identified by the ``expires_at`` the reminder was about: a renewal moves
    ``expires_at`` and so starts a new period. The unique constraint is what makes each
    reminder go out exactly once per period, however often or concurrently the job runs.
    """

    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="reminders")
    expires_at = models.DateTimeField()
    days_before = models.PositiveSmallIntegerField()
    sent_at = models.DateTimeField(default=timezone.now)
    # Recorded but never sent: a later reminder or the expiry notice went out instead (the
    # job was not running when this one fell due), and said so. The row keeps it from
    # being sent after its successor.
    superseded = models.BooleanField(default=False)

    objects = ReminderQuerySet.as_manager()

    class Meta:
        ordering = ["-sent_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["app", "expires_at", "days_before"], name="reminder_once_per_period"
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_id}: {self.days_before} days before {self.expires_at:%Y-%m-%d}"


class SunsetCase(models.Model):
    """A retirement workflow: opened for low usage or an unrenewed expiry, answered by the
    owner (accept or contest), decided by the platform team when contested, closed once."""

    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="sunset_cases")
    reason = models.CharField(max_length=20, choices=SunsetReason.choices)
    opened_at = models.DateTimeField(default=timezone.now)
    grace_ends_at = models.DateTimeField(db_index=True)
    # The numbers that triggered the case (trailing requests, threshold...), as shown to
    # the owner at the time.
    figures = models.JSONField(default=dict, blank=True)
    response = models.CharField(max_length=10, choices=SunsetResponse.choices, blank=True)
    justification = models.TextField(blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    responded_at = models.DateTimeField(null=True, blank=True)
    decision = models.CharField(max_length=10, choices=SunsetDecision.choices, blank=True)
    decision_comment = models.TextField(blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=20, choices=SunsetOutcome.choices, blank=True)
    # Set when the case went unanswered but live apps still called the app: the hourly job
    # left it to the platform team instead of retiring it, and leaves it alone from then on.
    escalated_at = models.DateTimeField(null=True, blank=True)

    objects = SunsetCaseQuerySet.as_manager()

    class Meta:
        ordering = ["-opened_at", "-pk"]
        constraints = [
            # One open case per app, whatever races happen between the daily jobs.
            models.UniqueConstraint(
                fields=["app"], condition=Q(closed_at__isnull=True), name="sunset_one_open_per_app"
            )
        ]

    def __str__(self) -> str:
        return f"Sunset case #{self.pk} for {self.app} ({self.get_reason_display().lower()})"

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def status(self) -> str:
        if self.closed_at is not None:
            return SunsetStatus.CLOSED
        if self.response == SunsetResponse.CONTEST or self.escalated_at is not None:
            return SunsetStatus.AWAITING_DECISION
        return SunsetStatus.AWAITING_OWNER

    def get_status_display(self) -> str:
        return SunsetStatus(self.status).label

    @property
    def can_respond(self) -> bool:
        return self.is_open and not self.response and timezone.now() <= self.grace_ends_at

    @property
    def can_decide(self) -> bool:
        """The platform team decides a contested case, any open case of a critical app,
        and an unanswered case escalated because live apps call the app: neither a
        critical app nor one others depend on is retired because nobody answered."""
        if not self.is_open or self.response == SunsetResponse.ACCEPT:
            return False
        return (
            self.response == SunsetResponse.CONTEST
            or self.escalated_at is not None
            or self.app.criticality == Criticality.CRITICAL
        )


class TelemetryDelivery(models.Model):
    """One accepted telemetry call, kept so a repeated ``webhook-id`` gets the same answer.

    Standard Webhooks senders retry with the same id; the unique constraint makes two
    concurrent identical deliveries store their reports once, and the body hash tells a
    retry (same body: same answer) from a reused id (different body: 422).
    """

    # No index of its own: the unique (app, webhook_id) index starts with app_id and serves
    # every lookup by app; one index less to update on each telemetry call.
    app = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="+", db_index=False)
    webhook_id = models.CharField(max_length=200)
    body_sha256 = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(default=202)
    response = models.JSONField(default=dict)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-received_at", "-pk"]
        # Django's default plural would be "telemetry deliverys" in the admin.
        verbose_name_plural = "telemetry deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["app", "webhook_id"], name="telemetry_delivery_once_per_id"
            )
        ]

    def __str__(self) -> str:
        return f"{self.app_id} {self.webhook_id}"


class ObservedCall(models.Model):
    """Daily rollup of the calls one app reported making to another, in one region.

    Carried by the caller's telemetry reports, so it is keyed like them (the region
    included): each report replaces its day and region, and a later push for one region
    must not wipe the calls another region reported for the same day.
    """

    caller = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="observed_calls")
    callee = models.ForeignKey(MicroApp, on_delete=models.PROTECT, related_name="observed_callers")
    region = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    date = models.DateField()
    requests = models.PositiveBigIntegerField(default=0)
    errors = models.PositiveBigIntegerField(default=0)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-date", "caller_id", "callee_id", "region_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["caller", "callee", "date", "region"], name="observed_call_one_per_day"
            )
        ]
        # The fleet-wide reads (the cleanup report, the ops picture) take a window of days.
        indexes = [models.Index(fields=["date", "caller"], name="observed_call_date_idx")]

    def __str__(self) -> str:
        return f"{self.caller_id} → {self.callee_id} {self.region_id} {self.date}"
