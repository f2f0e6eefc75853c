"""Named reads of the lifecycle models, so views and jobs never repeat a filter expression."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import models
from django.utils import timezone

from catalog.models import MicroApp
from lifecycle.choices import SunsetResponse, SunsetStatus


class UsageReportQuerySet(models.QuerySet):
    def trailing(self, days: int, *, today: date | None = None) -> UsageReportQuerySet:
        """Reports of the last ``days`` full days plus today."""
        today = today or timezone.now().date()
        return self.filter(date__gt=today - timedelta(days=days), date__lte=today)


class SunsetCaseQuerySet(models.QuerySet):
    def open(self) -> SunsetCaseQuerySet:
        return self.filter(closed_at__isnull=True)

    def closed(self) -> SunsetCaseQuerySet:
        return self.filter(closed_at__isnull=False)

    def awaiting_owner(self) -> SunsetCaseQuerySet:
        return self.open().filter(response="", escalated_at__isnull=True)

    def awaiting_decision(self) -> SunsetCaseQuerySet:
        """Contested, or escalated unanswered because live apps call the app."""
        return self.open().filter(
            models.Q(response=SunsetResponse.CONTEST) | models.Q(escalated_at__isnull=False)
        )

    def with_status(self, status: str) -> SunsetCaseQuerySet:
        if status == SunsetStatus.AWAITING_OWNER:
            return self.awaiting_owner()
        if status == SunsetStatus.AWAITING_DECISION:
            return self.awaiting_decision()
        if status == SunsetStatus.CLOSED:
            return self.closed()
        return self

    def unanswered_past_grace(self, now=None) -> SunsetCaseQuerySet:
        """Open cases nobody contested whose grace period is over and that were not handed
        to the platform team: they retire their app."""
        now = now or timezone.now()
        return (
            self.open()
            .filter(grace_ends_at__lte=now, escalated_at__isnull=True)
            .exclude(response=SunsetResponse.CONTEST)
        )

    def visible_to(self, user) -> SunsetCaseQuerySet:
        return self.filter(app__in=MicroApp.objects.visible_to(user).values("pk"))

    def for_list(self) -> SunsetCaseQuerySet:
        return self.select_related("app", "app__team", "app__owner", "responded_by", "decided_by")


class ReminderQuerySet(models.QuerySet):
    def for_period(self, app: MicroApp) -> ReminderQuerySet:
        return self.filter(app=app, expires_at=app.expires_at)
