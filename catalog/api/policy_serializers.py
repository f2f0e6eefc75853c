"""The policy API's bodies: the rules, a payload to evaluate (an app's fields, an
existing app with changes, a contract about to be uploaded) and the verdict."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from rest_framework import serializers

from catalog import policies
from catalog.api.schema import StrictBooleanField, StrictCharField, StrictSlugRelatedField
from catalog.api.serializers import PolicyFindingSerializer
from catalog.choices import Criticality, Environment, Jurisdiction, SupportHours
from catalog.models import Region, Team

User = get_user_model()


class PolicyRuleSerializer(serializers.Serializer):
    id = StrictCharField()
    description = StrictCharField()
    severity = serializers.ChoiceField(choices=policies.Severity.choices)


class PolicyAppFieldsSerializer(serializers.Serializer):
    """The app fields policies look at, all optional; other keys of an app payload are
    ignored, so a whole ``GET /apps/{slug}/`` body can be posted as it is."""

    slug = StrictCharField(required=False, allow_blank=True)
    name = StrictCharField(required=False, allow_blank=True)
    environment = serializers.ChoiceField(choices=Environment.choices, required=False)
    criticality = serializers.ChoiceField(choices=Criticality.choices, required=False)
    handles_pii = StrictBooleanField(required=False)
    handles_payment_data = StrictBooleanField(required=False)
    externally_exposed = StrictBooleanField(required=False)
    data_residency = serializers.ChoiceField(
        choices=Jurisdiction.choices, required=False, allow_blank=True
    )
    regions = StrictSlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), required=False
    )
    team = StrictSlugRelatedField(
        slug_field="slug", queryset=Team.objects.all(), required=False, allow_null=True
    )
    owner = StrictSlugRelatedField(
        slug_field="username", queryset=User.objects.all(), required=False, allow_null=True
    )
    sla_availability = serializers.DecimalField(
        max_digits=6, decimal_places=3, required=False, allow_null=True
    )
    sla_p95_ms = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    sla_support_hours = serializers.ChoiceField(
        choices=SupportHours.choices, required=False, allow_blank=True
    )
    docs_url = serializers.URLField(required=False, allow_blank=True)
    runbook_url = serializers.URLField(required=False, allow_blank=True)
    repository_url = serializers.URLField(required=False, allow_blank=True)


class PolicyContractSerializer(serializers.Serializer):
    """A contract candidate's facts, for the ``breaking-needs-notice`` rule."""

    breaking_changes = serializers.IntegerField(min_value=0)
    touched_dependents = serializers.IntegerField(
        min_value=0,
        required=False,
        help_text="Live dependents the breaking changes touch; with `app`, defaults to its "
        "live direct dependents (as if each called what changed).",
    )
    effective_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it would take effect; null: at once."
    )
    override = StrictBooleanField(
        required=False,
        default=False,
        help_text="A platform override of the migration window (counts for the platform "
        "team only).",
    )


class PolicyEvaluateSerializer(PolicyAppFieldsSerializer):
    """Either an app payload, or ``{"app": "<slug>", "changes": {...}}``."""

    contract = PolicyContractSerializer(
        required=False, help_text="A contract version about to be uploaded."
    )

    # A plain slug, looked up among the apps the caller may see (404 otherwise), so the
    # answer does not reveal whether another team's draft exists.
    app = serializers.SlugField(
        required=False, help_text="An existing app to evaluate, with `changes` applied on top."
    )
    changes = serializers.DictField(required=False, help_text="Proposed changes to `app`.")

    def validate_changes(self, changes: dict) -> dict:
        fields = PolicyAppFieldsSerializer(data=changes)
        fields.is_valid(raise_exception=True)
        return fields.validated_data

    def validate(self, attrs: dict) -> dict:
        if "changes" in attrs and "app" not in attrs:
            raise serializers.ValidationError({"app": "Name the app the changes apply to."})
        return attrs


class PolicyEvaluationSerializer(serializers.Serializer):
    app = StrictCharField(allow_null=True)
    passed = serializers.BooleanField(help_text="No `block` finding.")
    findings = PolicyFindingSerializer(many=True)
