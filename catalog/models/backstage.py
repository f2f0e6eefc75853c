"""What Appkeeper keeps of Backstage: every entity as it was read, the relations it acts on,
and the sources it pulls on a schedule.

An entity's ``document`` is the entity exactly as read (placeholders such as ``$text`` left
as written), so whatever Appkeeper does not map (other annotations, labels, links,
``spec.system``, relations, unknown spec fields) is written back on export unchanged. The
Appkeeper object it became (a team, a person or an app) points back at it, one to one.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class EntityKind(models.TextChoices):
    """The kinds Appkeeper maps; others (System, Resource, Domain, Location...) are kept as
    entities with nothing attached, so they still count and are never lost."""

    COMPONENT = "component", "Component"
    API = "api", "API"
    GROUP = "group", "Group"
    USER = "user", "User"


class RelationType(models.TextChoices):
    """The references the importer follows, stored so one arriving later finds the other."""

    DEPENDS_ON = "dependsOn", "depends on"
    PROVIDES_API = "providesApi", "provides API"
    CONSUMES_API = "consumesApi", "consumes API"
    MEMBER_OF = "memberOf", "member of"
    HAS_MEMBER = "hasMember", "has member"
    CHILD_OF = "childOf", "child of"


class SyncStatus(models.TextChoices):
    NEVER = "never", "Not run yet"
    OK = "ok", "Synced"
    UNCHANGED = "unchanged", "Unchanged (304)"
    FAILED = "failed", "Failed"


class BackstageSource(models.Model):
    """A catalog file (or a Location entity) the platform team asked Appkeeper to follow.

    A beat job pulls each enabled source every ``interval_minutes`` with ``If-None-Match`` /
    ``If-Modified-Since``, follows Location targets, resolves ``$text``/``$json``/``$yaml``
    on the allowed hosts and imports what it read as a background job. Sources are never
    deleted: one that is no longer wanted is disabled (``retired_at``).
    """

    name = models.CharField(max_length=100, unique=True)
    url = models.URLField(max_length=2000)
    # Sent as ``Authorization: Bearer`` to the source's own host only, never to another.
    token = models.CharField(max_length=500, blank=True)
    enabled = models.BooleanField(default=True)
    interval_minutes = models.PositiveIntegerField(default=60)
    etag = models.CharField(max_length=500, blank=True)
    last_modified = models.CharField(max_length=100, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(
        max_length=10, choices=SyncStatus.choices, default=SyncStatus.NEVER
    )
    last_error = models.TextField(blank=True)
    # What the last run read: files fetched, entities found.
    last_files = models.PositiveIntegerField(default=0)
    last_entities = models.PositiveIntegerField(default=0)
    last_job = models.ForeignKey(
        "catalog.ImportJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)
    retired_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BackstageEntity(models.Model):
    """One Backstage entity, by its full reference, and what Appkeeper made of it."""

    # ``kind:namespace/name`` in lower case: Backstage compares references without case.
    ref = models.CharField(max_length=300, unique=True)
    kind = models.CharField(max_length=50, db_index=True)
    namespace = models.CharField(max_length=63, default="default")
    name = models.CharField(max_length=253)
    # The entity as read, placeholders as written.
    document = models.JSONField(default=dict)
    # An API's definition once its placeholder was resolved (or inline); empty otherwise.
    definition = models.TextField(blank=True)
    # sha256 of the canonical document and definition: an unchanged entity is not rewritten.
    digest = models.CharField(max_length=64, blank=True)
    # Where it was read from (the catalog file's URL), for relative placeholders; empty for
    # an upload.
    location = models.CharField(max_length=2000, blank=True)
    source = models.ForeignKey(
        BackstageSource,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="entities",
    )
    app = models.OneToOneField(
        "catalog.MicroApp",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backstage_entity",
    )
    team = models.OneToOneField(
        "catalog.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backstage_entity",
    )
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="backstage_entity",
    )
    # The Appkeeper values the last import wrote, by field: a field whose value differs now
    # was set in Appkeeper, and the fields Appkeeper owns (environment, SLA) then stay.
    imported = models.JSONField(default=dict, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    # Set when a sync of its source no longer lists it; cleared when it comes back.
    missing_since = models.DateTimeField(null=True, blank=True, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref"]
        verbose_name_plural = "Backstage entities"
        indexes = [models.Index(fields=["source", "last_seen_at"], name="backstage_source_seen")]

    def __str__(self) -> str:
        return self.ref


class BackstageRelation(models.Model):
    """``entity`` → ``target_ref`` of one type, as the entity's spec declares it. The target
    need not exist yet: whichever of the two arrives second makes the link."""

    entity = models.ForeignKey(BackstageEntity, on_delete=models.CASCADE, related_name="relations")
    type = models.CharField(max_length=20, choices=RelationType.choices)
    target_ref = models.CharField(max_length=300)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["entity", "type", "target_ref"], name="backstage_relation_unique"
            )
        ]
        indexes = [models.Index(fields=["target_ref", "type"], name="backstage_relation_target")]

    def __str__(self) -> str:
        return f"{self.entity_id} {self.type} {self.target_ref}"
