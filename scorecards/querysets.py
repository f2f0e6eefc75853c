"""Named reads of scorecards."""

from __future__ import annotations

from django.db import models

from catalog import permissions


class ScorecardQuerySet(models.QuerySet):
    def for_quarter(self, label: str) -> ScorecardQuerySet:
        return self.filter(quarter=label)

    def visible_to(self, user) -> ScorecardQuerySet:
        """Scorecards of the apps the user may see (``catalog.permissions.can_view_app``)."""
        rule = permissions.visible_apps_filter(user, prefix="app__")
        return self if rule is None else self.filter(rule)

    def for_list(self) -> ScorecardQuerySet:
        return self.select_related("app", "team", "app__owner")
