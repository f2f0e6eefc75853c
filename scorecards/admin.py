"""Scorecards in the admin: read-only history (recompute with ``compute_scorecards``)."""

from __future__ import annotations

from django.contrib import admin

from scorecards.models import Scorecard


@admin.register(Scorecard)
class ScorecardAdmin(admin.ModelAdmin):
    list_display = [
        "app",
        "quarter",
        "team",
        "grade",
        "overall",
        "documentation",
        "telemetry",
        "cost",
        "responsiveness",
        "computed_at",
    ]
    list_filter = ["quarter", "grade", "team"]
    search_fields = ["app__name", "app__slug", "team__name"]
    list_select_related = ["app", "team"]
    readonly_fields = [f.name for f in Scorecard._meta.fields]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
