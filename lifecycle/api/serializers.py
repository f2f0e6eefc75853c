"""How renewals, secrets, sunset cases and telemetry read and write over the API."""

from __future__ import annotations

from rest_framework import serializers

from catalog.api.retirement_serializers import confirm_dependents_field
from lifecycle.choices import SunsetDecision, SunsetOutcome, SunsetResponse, SunsetStatus
from lifecycle.models import Renewal, SunsetCase
from lifecycle.services import JUSTIFICATION_MIN_CHARS
from lifecycle.telemetry import MAX_CALLS_PER_REPORT, MAX_REPORTS


class RenewSerializer(serializers.Serializer):
    justification = serializers.CharField(min_length=JUSTIFICATION_MIN_CHARS, max_length=4000)


class RenewalSerializer(serializers.ModelSerializer):
    app = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    renewed_by = serializers.SlugRelatedField(slug_field="username", read_only=True)
    app_state = serializers.CharField(source="app.state", read_only=True)

    class Meta:
        model = Renewal
        fields = [
            "id",
            "app",
            "renewed_by",
            "justification",
            "renewed_at",
            "previous_state",
            "previous_expires_at",
            "expires_at",
            "app_state",
        ]
        read_only_fields = fields


class SecretSerializer(serializers.Serializer):
    secret = serializers.CharField(help_text="Shown once: store it in the app's secret store.")
    previous_secret_valid_until = serializers.DateTimeField(allow_null=True)


class SunsetCaseSerializer(serializers.ModelSerializer):
    app = serializers.SlugRelatedField(slug_field="slug", read_only=True)
    app_name = serializers.CharField(source="app.name", read_only=True)
    team = serializers.CharField(source="app.team.slug", read_only=True)
    status = serializers.ChoiceField(choices=SunsetStatus.choices, read_only=True)
    # Until the owner answers or the platform team decides, these are null (the user) or
    # "" (the choice fields): declared so, the schema says what the API returns.
    responded_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of who answered; null until the owner answers.",
    )
    decided_by = serializers.SlugRelatedField(
        slug_field="username",
        read_only=True,
        allow_null=True,
        help_text="Username of the platform team member who decided; null until then.",
    )
    response = serializers.ChoiceField(
        choices=SunsetResponse.choices, allow_blank=True, read_only=True
    )
    decision = serializers.ChoiceField(
        choices=SunsetDecision.choices, allow_blank=True, read_only=True
    )
    outcome = serializers.ChoiceField(
        choices=SunsetOutcome.choices,
        allow_blank=True,
        read_only=True,
        help_text='"" while the case is open.',
    )
    url = serializers.HyperlinkedIdentityField(view_name="api:sunset-case-detail")

    class Meta:
        model = SunsetCase
        fields = [
            "id",
            "url",
            "app",
            "app_name",
            "team",
            "reason",
            "status",
            "opened_at",
            "grace_ends_at",
            "figures",
            "response",
            "justification",
            "responded_by",
            "responded_at",
            "decision",
            "decision_comment",
            "decided_by",
            "decided_at",
            "closed_at",
            "outcome",
            "escalated_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "escalated_at": {
                "help_text": "When the case, unanswered, went to the platform team because "
                "live apps call the app; null otherwise."
            }
        }


class SunsetRespondSerializer(serializers.Serializer):
    response = serializers.ChoiceField(choices=SunsetResponse.choices)
    justification = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=4000,
        help_text=f"Required to contest: at least {JUSTIFICATION_MIN_CHARS} characters.",
    )
    confirm_dependents = confirm_dependents_field()

    def validate(self, attrs: dict) -> dict:
        text = attrs.get("justification", "").strip()
        if attrs["response"] == SunsetResponse.CONTEST and len(text) < JUSTIFICATION_MIN_CHARS:
            raise serializers.ValidationError(
                {"justification": f"Explain in at least {JUSTIFICATION_MIN_CHARS} characters."}
            )
        return attrs


class SunsetDecideSerializer(serializers.Serializer):
    decision = serializers.ChoiceField(choices=SunsetDecision.choices)
    comment = serializers.CharField(required=False, allow_blank=True, max_length=4000)
    confirm_dependents = confirm_dependents_field()


class ObservedEdgeSerializer(serializers.Serializer):
    app = serializers.SlugField(source="slug", help_text="The called app.")
    name = serializers.CharField()
    requests = serializers.IntegerField(help_text="Requests in the window.")
    errors = serializers.IntegerField()
    last_called = serializers.DateField(allow_null=True)
    declared = serializers.BooleanField(help_text="false: called but not declared.")


class UnusedDependencySerializer(serializers.Serializer):
    app = serializers.SlugField(source="slug", help_text="The declared app.")
    name = serializers.CharField()
    last_called = serializers.DateField(
        allow_null=True, help_text="The last reported call within two windows, if any."
    )


class ObservedCallsSerializer(serializers.Serializer):
    days = serializers.IntegerField(help_text="The window, APPKEEPER_OBSERVED_CALLS_DAYS.")
    window_start = serializers.DateField()
    watched_since = serializers.DateField(
        allow_null=True, help_text="The first reported call looked back over; null: none."
    )
    judges_unused = serializers.BooleanField(
        source="covers_window",
        help_text="Whether calls were reported over the whole window, so declared apps "
        "not called are listed in unused.",
    )
    calls = ObservedEdgeSerializer(source="observed", many=True)
    undeclared = ObservedEdgeSerializer(many=True)
    unused = UnusedDependencySerializer(many=True)


# --- telemetry (documentation only: the view reads and checks the raw bytes itself) --------


class TelemetryCallSerializer(serializers.Serializer):
    app = serializers.SlugField(help_text="The called app's slug.")
    requests = serializers.IntegerField(min_value=0, help_text="Requests made to it that day.")
    errors = serializers.IntegerField(min_value=0, required=False)


class TelemetryReportSerializer(serializers.Serializer):
    date = serializers.DateField(help_text="UTC day; not in the future, at most 400 days old.")
    region = serializers.CharField(help_text="A region code, e.g. eu-central.")
    requests = serializers.IntegerField(min_value=0)
    errors = serializers.IntegerField(min_value=0, required=False)
    p95_ms = serializers.FloatField(min_value=0, required=False, allow_null=True)
    cost = serializers.DecimalField(
        max_digits=14, decimal_places=4, min_value=0, required=False, coerce_to_string=True
    )
    currency = serializers.CharField(required=False, help_text="If given, the configured one.")
    calls = TelemetryCallSerializer(
        many=True,
        required=False,
        max_length=MAX_CALLS_PER_REPORT,
        help_text="The other apps this app called that day in this region.",
    )


class TelemetryBatchSerializer(serializers.Serializer):
    app = serializers.SlugField()
    currency = serializers.CharField(required=False)
    reports = TelemetryReportSerializer(
        many=True, max_length=MAX_REPORTS, help_text="Empty: a heartbeat."
    )


class TelemetryAcceptedSerializer(serializers.Serializer):
    app = serializers.SlugField()
    accepted = serializers.IntegerField(help_text="Daily rollups stored (inserted or replaced).")
    heartbeat = serializers.BooleanField()
    calls = serializers.IntegerField(help_text="Observed calls stored (inserted or replaced).")
    ignored_calls = serializers.ListField(
        child=serializers.DictField(),
        help_text="Calls not recorded, each with its report index, field and why.",
    )
    webhook_id = serializers.CharField()
    received_at = serializers.DateTimeField()


class TelemetryErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(), required=False)
