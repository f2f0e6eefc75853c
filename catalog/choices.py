"""Enumerations of the registry."""

from django.db import models


class AppKind(models.TextChoices):
    WIDGET = "widget", "Widget"
    INTEGRATION = "integration", "Integration"
    UI = "ui", "UI"
    SERVICE = "service", "Service"
    AUTOMATION = "automation", "Automation"


class Environment(models.TextChoices):
    SANDBOX = "sandbox", "Sandbox"
    STAGING = "staging", "Staging"
    PRODUCTION = "production", "Production"


class Criticality(models.TextChoices):
    PROTOTYPE = "prototype", "Prototype"
    STANDARD = "standard", "Standard"
    CRITICAL = "critical", "Critical"


class Jurisdiction(models.TextChoices):
    EU = "EU", "European Union"
    US = "US", "United States"
    UK = "UK", "United Kingdom"
    CH = "CH", "Switzerland"
    CA = "CA", "Canada"
    APAC = "APAC", "Asia-Pacific"


class SupportHours(models.TextChoices):
    BUSINESS = "business", "Business hours"
    EXTENDED = "extended", "Extended (7–22, weekdays)"
    ALWAYS = "24x7", "24×7"


class AppState(models.TextChoices):
    DRAFT = "draft", "Draft"
    IN_REVIEW = "in_review", "In review"
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    SUNSETTING = "sunsetting", "Sunsetting"
    RETIRED = "retired", "Retired"


class Risk(models.TextChoices):
    HIGH = "high", "High"
    LOW = "low", "Low"


class ContractKind(models.TextChoices):
    OPENAPI = "openapi", "OpenAPI"
    GRAPHQL = "graphql", "GraphQL"


class ReviewDecision(models.TextChoices):
    APPROVED = "approved", "Approved"
    CHANGES_REQUESTED = "changes_requested", "Changes requested"
    REJECTED = "rejected", "Rejected"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", "Email"
    WEBHOOK = "webhook", "Webhook"
    IN_APP = "in_app", "In-app"
    SLACK = "slack", "Slack"
    TEAMS = "teams", "Microsoft Teams"


PLATFORM_GROUP = "platform-team"
FINANCE_GROUP = "finance"


class ContractStatus(models.TextChoices):
    """Whether a contract version is current yet: a scheduled one waits for its date, a
    withdrawn one never will be."""

    SCHEDULED = "scheduled", "Scheduled"
    EFFECTIVE = "effective", "Effective"
    WITHDRAWN = "withdrawn", "Withdrawn"
