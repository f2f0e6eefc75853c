"""Reference data: the teams that own apps and the regions they run in."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from catalog.choices import (
    Jurisdiction,
)
from catalog.models.common import no_control_characters, slug_validator
from catalog.querysets import (
    TeamQuerySet,
)


class Team(models.Model):
    """A group of people that owns apps and pays for them."""

    name = models.CharField(max_length=100, unique=True, validators=[no_control_characters])
    slug = models.SlugField(max_length=100, unique=True, validators=[slug_validator])
    description = models.TextField(blank=True, max_length=2000)
    # Teams nest (Backstage ``spec.parent``); a team's page lists its sub-teams.
    parent = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="children"
    )
    cost_center = models.CharField(max_length=50, blank=True)
    contact_email = models.EmailField(blank=True)
    chat_channel = models.CharField(max_length=100, blank=True)
    webhook_url = models.URLField(
        blank=True, help_text="Optional: lifecycle notifications are also POSTed here, signed."
    )
    webhook_secret = models.CharField(max_length=100, blank=True)
    # Where the team's notices go in Slack (a channel id such as C0123ABCD, or #name) and
    # the Microsoft Teams Workflows webhook that posts its Adaptive Cards.
    slack_channel = models.CharField(max_length=100, blank=True)
    teams_webhook_url = models.URLField(max_length=1000, blank=True)
    members = models.ManyToManyField(
        settings.AUTH_USER_MODEL, related_name="appkeeper_teams", blank=True
    )
    # Takes over an app whose owner leaves when the app has no active co-owner.
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="led_teams",
    )
    # The identity provider's id of the group this team was provisioned from (SCIM).
    external_id = models.CharField(max_length=255, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # SCIM's meta.lastModified and the source of its ETag: membership changes touch it too.
    updated_at = models.DateTimeField(auto_now=True)

    objects = TeamQuerySet.as_manager()

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Region(models.Model):
    """A deployment region and the jurisdiction whose law applies to data stored there."""

    code = models.SlugField(max_length=50, unique=True)
    name = models.CharField(max_length=100)
    jurisdiction = models.CharField(max_length=8, choices=Jurisdiction.choices)
    sovereign = models.BooleanField(default=False)
    pci = models.BooleanField(default=False, help_text="Certified for payment card data.")

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code
