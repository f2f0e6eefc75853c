"""Enumerations of the lifecycle app."""

from django.db import models


class SunsetReason(models.TextChoices):
    LOW_USAGE = "low_usage", "Low usage"
    EXPIRED = "expired", "Expired and not renewed"
    BACKSTAGE_REMOVED = "backstage_removed", "Removed from its Backstage source"


class SunsetResponse(models.TextChoices):
    ACCEPT = "accept", "Accepted"
    CONTEST = "contest", "Contested"


class SunsetDecision(models.TextChoices):
    UPHOLD = "uphold", "Contest upheld: keep the app"
    RETIRE = "retire", "Retire the app"


class SunsetOutcome(models.TextChoices):
    RETIRED = "retired", "App retired"
    REACTIVATED = "reactivated", "App back to active"
    WITHDRAWN = "withdrawn", "Closed: the app left sunsetting by other means"


class SunsetStatus(models.TextChoices):
    """Derived from the case's fields; used by the list filters."""

    AWAITING_OWNER = "awaiting_owner", "Awaiting the owner"
    AWAITING_DECISION = "awaiting_decision", "Awaiting a platform decision"
    CLOSED = "closed", "Closed"


# Notification kinds (catalog.models.Notification.kind). The scorecards' owner
# responsiveness reads "expiry_reminder" and "sunset_notice"; keep those names.
class NoticeKind(models.TextChoices):
    EXPIRY_REMINDER = "expiry_reminder", "Expiry reminder"
    APP_EXPIRED = "app_expired", "App expired"
    RECERTIFICATION_OVERDUE = "recertification_overdue", "Re-certification overdue"
    SUNSET_NOTICE = "sunset_notice", "Sunset case opened"
    SUNSET_CONTESTED = "sunset_contested", "Sunset case contested"
    SUNSET_CLOSED = "sunset_closed", "Sunset case closed"
    SUNSET_ESCALATED = "sunset_escalated", "Sunset case escalated: live apps depend on it"
    DEPENDENCY_SUNSET = "dependency_sunset", "An app yours calls is being sunset"
    APP_RENEWED = "app_renewed", "App renewed"
    API_TOKEN_EXPIRING = "api_token_expiring", "API token expiring"
