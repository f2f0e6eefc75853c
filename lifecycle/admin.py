"""Admin views of the lifecycle history: read-mostly, nothing is hard-deleted."""

from __future__ import annotations

from django.contrib import admin

from lifecycle.models import (
    ObservedCall,
    Reminder,
    Renewal,
    SunsetCase,
    TelemetryDelivery,
    UsageReport,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Renewal)
class RenewalAdmin(ReadOnlyAdmin):
    list_display = ["app", "renewed_by", "renewed_at", "previous_state", "expires_at"]
    list_select_related = ["app", "renewed_by"]
    search_fields = ["app__slug", "app__name", "justification"]
    date_hierarchy = "renewed_at"


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ["app", "days_before", "expires_at", "sent_at"]
    list_select_related = ["app"]
    list_filter = ["days_before"]
    search_fields = ["app__slug"]


@admin.register(SunsetCase)
class SunsetCaseAdmin(ReadOnlyAdmin):
    list_display = [
        "id",
        "app",
        "reason",
        "opened_at",
        "grace_ends_at",
        "response",
        "decision",
        "closed_at",
        "outcome",
    ]
    list_select_related = ["app"]
    list_filter = ["reason", "response", "decision", "outcome"]
    search_fields = ["app__slug", "app__name"]


@admin.register(UsageReport)
class UsageReportAdmin(ReadOnlyAdmin):
    list_display = ["app", "region", "date", "requests", "errors", "p95_ms", "cost"]
    list_select_related = ["app", "region"]
    list_filter = ["region"]
    search_fields = ["app__slug"]
    date_hierarchy = "date"


@admin.register(ObservedCall)
class ObservedCallAdmin(ReadOnlyAdmin):
    list_display = ["caller", "callee", "region", "date", "requests", "errors"]
    list_select_related = ["caller", "callee", "region"]
    list_filter = ["region"]
    search_fields = ["caller__slug", "callee__slug"]
    date_hierarchy = "date"


@admin.register(TelemetryDelivery)
class TelemetryDeliveryAdmin(ReadOnlyAdmin):
    list_display = ["app", "webhook_id", "status_code", "received_at"]
    list_select_related = ["app"]
    search_fields = ["app__slug", "webhook_id"]
