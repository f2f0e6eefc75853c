"""Who wants what, where and how often; and what went wrong with a chat integration."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone


class Topic(models.TextChoices):
    """Notification kinds grouped the way people choose them (``messaging.topics`` maps
    each outbox ``kind`` to one)."""

    EXPIRY = "expiry", "Expiry and renewals"
    SUNSET = "sunset", "Sunset cases"
    REVIEWS = "reviews", "Reviews"
    CONTRACTS = "contracts", "Contracts and breaking changes"
    OWNERSHIP = "ownership", "Ownership changes"
    SCORECARDS = "scorecards", "Scorecards"
    OTHER = "other", "Everything else"


class Cadence(models.TextChoices):
    IMMEDIATE = "immediate", "Immediately"
    DAILY = "daily", "Daily digest"
    WEEKLY = "weekly", "Weekly digest"
    OFF = "off", "Off"


class PersonalChannel(models.TextChoices):
    """Where one person is reached (a team's Slack channel and Teams webhook belong to the
    team, not to a preference)."""

    EMAIL = "email", "Email"
    SLACK = "slack", "Slack direct message"


class NotificationPreference(models.Model):
    """One person's choice for one topic on one channel. No row means the default:
    email immediately, Slack immediately when Slack is configured."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    topic = models.CharField(max_length=20, choices=Topic.choices)
    channel = models.CharField(max_length=10, choices=PersonalChannel.choices)
    cadence = models.CharField(max_length=10, choices=Cadence.choices, default=Cadence.IMMEDIATE)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "topic", "channel"], name="notification_preference_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.topic} {self.channel}: {self.cadence}"


class ChatProfile(models.Model):
    """What chat integrations know of a person: their time zone (digests go out at 08:00
    there) and their Slack user id, looked up by email once and kept."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_profile"
    )
    # An IANA name (Europe/Berlin); empty means the installation's TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True)
    slack_user_id = models.CharField(max_length=32, blank=True, db_index=True)
    slack_checked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"chat profile of {self.user_id}"


class AlertCode(models.TextChoices):
    """Failures no retry can fix: the platform team must act."""

    SLACK_AUTH = "slack_auth", "Slack token revoked or invalid"
    SLACK_CHANNEL = "slack_channel", "Slack channel missing, archived or not joined"
    TEAMS_WEBHOOK = "teams_webhook", "Teams webhook removed or refused"


class IntegrationAlert(models.Model):
    """One open problem of an integration, shown on the ops page until resolved. The same
    problem again bumps ``count`` instead of opening another alert."""

    code = models.CharField(max_length=20, choices=AlertCode.choices)
    # What it is about: a Slack channel id, a team's slug, "" for the whole installation.
    target = models.CharField(max_length=200, blank=True)
    team = models.ForeignKey(
        "catalog.Team", on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    message = models.TextField()
    count = models.PositiveIntegerField(default=1)
    first_seen_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-last_seen_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["code", "target"],
                condition=models.Q(resolved_at__isnull=True),
                name="integration_alert_open_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.target}"


class SlackInteraction(models.Model):
    """Each interaction Slack sent, by the digest of its signature: a replayed request is
    refused. Rows older than the signature window are pruned."""

    digest = models.CharField(max_length=64, unique=True)
    received_at = models.DateTimeField(default=timezone.now, db_index=True)

    def __str__(self) -> str:
        return self.digest
