"""What happens to an app over time: usage it reports, renewals, reminders, sunset cases."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models

from catalog.models import MicroApp, Region


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

    class Meta:
        ordering = ["-date", "app_id", "region_id"]
        constraints = [
            models.UniqueConstraint(fields=["app", "date", "region"], name="usage_one_per_day")
        ]
        indexes = [models.Index(fields=["date", "app"])]

    def __str__(self) -> str:
        return f"{self.app_id} {self.region_id} {self.date}"
