"""Named reads of scorecards."""

from __future__ import annotations

from django.db import models

from catalog import roles
from catalog.models import MicroApp


class ScorecardQuerySet(models.QuerySet):
    def for_quarter(self, label: str) -> ScorecardQuerySet:
        return self.filter(quarter=label)

    def visible_to(self, user) -> ScorecardQuerySet:
        """Scorecards of the apps the user may browse (other teams' drafts stay private)."""
        if roles.is_platform(user):
            return self
        return self.filter(app__in=MicroApp.objects.visible_to(user).values("pk"))

    def for_list(self) -> ScorecardQuerySet:
        return self.select_related("app", "team", "app__owner")
