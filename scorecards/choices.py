"""Enumerations of scorecards and chargeback."""

from django.db import models


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    F = "F", "F"


# Green to red, on every chart and badge that shows a grade.
GRADE_COLOURS = {"A": "#15803d", "B": "#65a30d", "C": "#ca8a04", "D": "#ea580c", "F": "#dc2626"}


class Dimension(models.TextChoices):
    DOCUMENTATION = "documentation", "Documentation"
    TELEMETRY = "telemetry", "Telemetry coverage"
    COST = "cost", "Cost efficiency"
    RESPONSIVENESS = "responsiveness", "Owner responsiveness"


class GroupKey(models.TextChoices):
    """What a chargeback report can be grouped by (one or two of these)."""

    TEAM = "team", "Team"
    COST_CENTER = "cost_center", "Cost centre"
    REGION = "region", "Region"
    RUNTIME = "runtime", "Runtime"
    APP = "app", "App"
    ENVIRONMENT = "environment", "Environment"


class CleanupIssue(models.TextChoices):
    """Why an app is on the cleanup report's agenda."""

    LOW_GRADE = "low_grade", "Graded D or F"
    LOW_USAGE = "low_usage", "Low usage"
    NO_CONTRACT = "no_contract", "No valid contract"
    STALE_TELEMETRY = "stale_telemetry", "Stale telemetry"
    UNDECLARED_CALLS = "undeclared_calls", "Calls it does not declare"
    UNUSED_DEPENDENCIES = "unused_dependencies", "Declared, not called"
    ORPHANED = "orphaned", "No owner"
