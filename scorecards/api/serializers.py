"""How scorecards, the rubric, the cleanup report and chargeback read over the API."""

from __future__ import annotations

from rest_framework import serializers

from scorecards.choices import CleanupIssue, Grade
from scorecards.models import Scorecard


class ReportErrorSerializer(serializers.Serializer):
    """An error answer: ``{"detail": "..."}``."""

    detail = serializers.CharField()


class DimensionScoresSerializer(serializers.Serializer):
    documentation = serializers.IntegerField(min_value=0, max_value=100)
    telemetry = serializers.IntegerField(min_value=0, max_value=100)
    cost = serializers.IntegerField(min_value=0, max_value=100)
    responsiveness = serializers.IntegerField(min_value=0, max_value=100)


class DimensionReasonsSerializer(serializers.Serializer):
    documentation = serializers.ListField(child=serializers.CharField())
    telemetry = serializers.ListField(child=serializers.CharField())
    cost = serializers.ListField(child=serializers.CharField())
    responsiveness = serializers.ListField(child=serializers.CharField())


class ScorecardSerializer(serializers.ModelSerializer):
    app = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    app_name = serializers.CharField(source="app.name", read_only=True)
    team = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    scores = DimensionScoresSerializer(read_only=True)
    reasons = DimensionReasonsSerializer(read_only=True)
    metrics = serializers.DictField(read_only=True, help_text="The inputs behind each score.")
    weights = serializers.DictField(child=serializers.IntegerField(), read_only=True)

    class Meta:
        model = Scorecard
        fields = [
            "app",
            "app_name",
            "team",
            "quarter",
            "period_start",
            "period_end",
            "scores",
            "overall",
            "grade",
            "reasons",
            "metrics",
            "weights",
            "rubric_version",
            "computed_at",
        ]
        read_only_fields = fields


class GradeCountsSerializer(serializers.Serializer):
    A = serializers.IntegerField()
    B = serializers.IntegerField()
    C = serializers.IntegerField()
    D = serializers.IntegerField()
    F = serializers.IntegerField()


class TeamRollupSerializer(serializers.Serializer):
    team = serializers.CharField()
    team_name = serializers.CharField()
    apps = serializers.IntegerField()
    average = serializers.DecimalField(max_digits=4, decimal_places=1)
    grades = GradeCountsSerializer()


class TeamRollupsSerializer(serializers.Serializer):
    quarter = serializers.CharField(allow_null=True)
    teams = TeamRollupSerializer(many=True)
    grades = GradeCountsSerializer(help_text="The whole quarter's grade distribution.")


class CriterionSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    points = serializers.IntegerField()


class DimensionRuleSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    weight = serializers.IntegerField()
    description = serializers.CharField()
    criteria = CriterionSerializer(many=True)


class GradeThresholdSerializer(serializers.Serializer):
    grade = serializers.ChoiceField(choices=Grade.choices)
    min_score = serializers.IntegerField()


class BandSerializer(serializers.Serializer):
    max_hours = serializers.IntegerField()
    score = serializers.IntegerField()


class RubricSerializer(serializers.Serializer):
    version = serializers.IntegerField()
    dimensions = DimensionRuleSerializer(many=True)
    grades = GradeThresholdSerializer(many=True)
    responsiveness_bands = BandSerializer(many=True)
    description_min_chars = serializers.IntegerField()
    heartbeat_hours = serializers.IntegerField()
    notice_kinds = serializers.ListField(child=serializers.CharField())


class CleanupFindingSerializer(serializers.Serializer):
    issue = serializers.ChoiceField(choices=CleanupIssue.choices)
    label = serializers.CharField()
    detail = serializers.CharField()
    action = serializers.CharField()


class CleanupAppSerializer(serializers.Serializer):
    app = serializers.CharField()
    name = serializers.CharField()
    owner = serializers.CharField(allow_null=True, help_text="Null for a team-owned app.")
    state = serializers.CharField()
    grade = serializers.ChoiceField(choices=Grade.choices, allow_null=True)
    overall = serializers.DecimalField(max_digits=4, decimal_places=1, allow_null=True)
    requests = serializers.IntegerField()
    issues = CleanupFindingSerializer(many=True)


class CleanupTeamSerializer(serializers.Serializer):
    team = serializers.CharField()
    team_name = serializers.CharField()
    count = serializers.IntegerField()
    apps = CleanupAppSerializer(many=True)


class CleanupReportSerializer(serializers.Serializer):
    quarter = serializers.CharField()
    teams = CleanupTeamSerializer(many=True)


class PeriodSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["quarter", "month", "range"])
    label = serializers.CharField()
    start = serializers.DateField(help_text="First day (inclusive).")
    end = serializers.DateField(help_text="Last day (inclusive).")


class ChargebackNumbersSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    errors = serializers.IntegerField()
    cost = serializers.DecimalField(max_digits=24, decimal_places=4)
    cost_per_1k_requests = serializers.DecimalField(
        max_digits=24, decimal_places=4, allow_null=True, help_text="null without requests."
    )
    apps = serializers.IntegerField(help_text="Distinct apps with usage in the group.")


class ChargebackRowSerializer(ChargebackNumbersSerializer):
    team = serializers.CharField(required=False)
    cost_center = serializers.CharField(required=False, allow_blank=True)
    region = serializers.CharField(required=False)
    runtime = serializers.CharField(required=False, allow_blank=True)
    app = serializers.CharField(required=False)
    environment = serializers.CharField(required=False)

    def to_representation(self, instance):
        # Only the keys the report is grouped by appear on a row.
        data = super().to_representation(instance)
        return {k: v for k, v in data.items() if k in instance}


class ChargebackSerializer(serializers.Serializer):
    period = PeriodSerializer()
    group_by = serializers.ListField(child=serializers.CharField())
    currency = serializers.CharField()
    rows = ChargebackRowSerializer(many=True)
    totals = ChargebackNumbersSerializer()
