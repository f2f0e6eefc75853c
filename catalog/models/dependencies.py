"""A declared dependency between two apps: who calls whom, which operations, which versions.

The table is the one Django made for the plain ``depends_on`` many-to-many (same name and
columns), so raw SQL and bulk inserts written against it keep working; the extra columns
are what impact analysis needs.
"""

from __future__ import annotations

from django.db import models
from django.utils import timezone

# A dependent lists the operations it calls as "METHOD /path" (OpenAPI) or a root field
# as "Query.field" (GraphQL); a long list is a sign the dependent uses everything.
MAX_USES = 200
MAX_USE_LENGTH = 300


class Dependency(models.Model):
    """``from_microapp`` calls ``to_microapp``."""

    # The implicit table's key was a 32-bit integer; kept, so nothing is rewritten.
    id = models.AutoField(primary_key=True)

    from_microapp = models.ForeignKey(
        "catalog.MicroApp", on_delete=models.CASCADE, related_name="dependency_links"
    )
    to_microapp = models.ForeignKey(
        "catalog.MicroApp", on_delete=models.CASCADE, related_name="dependent_links"
    )
    # The provider's operations the dependent calls; empty means "not declared" and
    # every breaking change counts as touching it.
    uses = models.JSONField(default=list, blank=True)
    # The contract versions the dependent is built against, e.g. "^1" or ">=2,<3";
    # blank means it follows the current version.
    version_range = models.CharField(max_length=50, blank=True)
    # Where the link was declared: a Backstage sync removes the links it made when the
    # file no longer lists them, and never touches the ones declared in Appkeeper.
    origin = models.CharField(
        max_length=10,
        choices=[("appkeeper", "Appkeeper"), ("backstage", "Backstage")],
        default="appkeeper",
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        db_table = "catalog_microapp_depends_on"
        # What Django gave the implicit table, kept so the existing constraint serves.
        unique_together = [("from_microapp", "to_microapp")]
        # Impact analysis walks the graph from the provider to its dependents.
        indexes = [models.Index(fields=["to_microapp", "from_microapp"], name="dependency_to_idx")]

    def __str__(self) -> str:
        return f"{self.from_microapp_id} → {self.to_microapp_id}"
