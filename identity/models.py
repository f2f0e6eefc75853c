"""The directory's view of people, the group mappings and the provisioning tokens."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Source(models.TextChoices):
    """Where an account came from: a later sign-in or provisioning call may adopt it."""

    LOCAL = "local", "Local (password)"
    OIDC = "oidc", "Single sign-on"
    SCIM = "scim", "Provisioned (SCIM)"
    BACKSTAGE = "backstage", "Imported from Backstage"


class DeactivatedVia(models.TextChoices):
    SCIM = "scim", "Provisioning (SCIM)"
    OIDC = "oidc", "Single sign-on (no longer in the access group)"
    ADMIN = "admin", "Administrator"


class Person(models.Model):
    """What the directory knows of one user, beside Django's own ``User`` row.

    ``external_id`` is the identity provider's id for SCIM (``externalId``); the OpenID
    Connect issuer and subject pin a single sign-on account to the user it first created
    or matched, so a changed e-mail address never signs someone into another account.
    ``updated_at`` is the SCIM ``meta.lastModified`` and the source of its ``ETag``.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="person"
    )
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.LOCAL)
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    oidc_issuer = models.CharField(max_length=255, blank=True)
    oidc_subject = models.CharField(max_length=255, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_via = models.CharField(max_length=10, choices=DeactivatedVia.choices, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["oidc_issuer", "oidc_subject"],
                condition=~models.Q(oidc_subject=""),
                name="person_unique_oidc_subject",
            ),
        ]

    def __str__(self) -> str:
        return str(self.user)


class GroupMapping(models.Model):
    """A directory group (a value of the configured groups claim, or a SCIM group's display
    name) and the Appkeeper role it gives: the platform team, finance, or membership of a
    team. Memberships follow the directory at each sign-in; ``APPKEEPER_OIDC_GROUP_MAP``
    adds mappings from the environment on top of these rows."""

    class Role(models.TextChoices):
        PLATFORM = "platform-team", "Platform team"
        FINANCE = "finance", "Finance"
        TEAM = "team", "Team member"

    group = models.CharField(max_length=255)
    role = models.CharField(max_length=20, choices=Role.choices)
    team = models.ForeignKey(
        "catalog.Team",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="group_mappings",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["group", "role", "team__name"]
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(role="team") & models.Q(team__isnull=False))
                | (~models.Q(role="team") & models.Q(team__isnull=True)),
                name="groupmapping_team_iff_team_role",
            ),
            models.UniqueConstraint(
                fields=["group", "role", "team"], name="groupmapping_unique_target"
            ),
            models.UniqueConstraint(
                fields=["group", "role"],
                condition=models.Q(team__isnull=True),
                name="groupmapping_unique_role",
            ),
        ]

    def __str__(self) -> str:
        target = self.team.name if self.team is not None else self.get_role_display()
        return f"{self.group} → {target}"


class ProvisioningToken(models.Model):
    """A bearer token the identity provider presents to ``/scim/v2/``. Issued and revoked by
    the platform team; only the SHA-256 of the secret is kept (as for API tokens), and a
    revoked token stays as the record that it existed."""

    NAME_MAX = 64

    name = models.CharField(max_length=NAME_MAX)
    prefix = models.CharField(max_length=16)
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                condition=models.Q(revoked_at__isnull=True),
                name="provisioningtoken_unique_live_name",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"
