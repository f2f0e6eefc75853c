"""How teams, regions and apps read and write over the API (DESIGN.md §5)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog import roles
from catalog.choices import Risk
from catalog.models import MicroApp, Region, Team

User = get_user_model()


class RegionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Region
        fields = ["code", "name", "jurisdiction", "sovereign", "pci"]


class TeamSerializer(serializers.ModelSerializer):
    members = serializers.SlugRelatedField(
        many=True, slug_field="username", queryset=User.objects.all(), required=False
    )

    class Meta:
        model = Team
        fields = ["slug", "name", "cost_center", "contact_email", "chat_channel", "members"]


class MicroAppSerializer(serializers.ModelSerializer):
    team = serializers.SlugRelatedField(slug_field="slug", queryset=Team.objects.all())
    owner = serializers.SlugRelatedField(
        slug_field="username", queryset=User.objects.filter(is_active=True), required=False
    )
    regions = serializers.SlugRelatedField(
        many=True, slug_field="code", queryset=Region.objects.all(), required=False
    )
    depends_on = serializers.SlugRelatedField(
        many=True, slug_field="slug", queryset=MicroApp.objects.all(), required=False
    )
    tags = serializers.ListField(
        child=serializers.RegexField(
            r"^[a-z0-9][a-z0-9._-]{0,39}$",
            error_messages={"invalid": "Tags are lowercase words of up to 40 characters."},
        ),
        max_length=20,
        required=False,
    )
    risk = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(view_name="api:app-detail", lookup_field="slug")

    class Meta:
        model = MicroApp
        fields = [
            "slug", "name", "description", "kind", "team", "owner", "contact", "runtime",
            "environment", "criticality", "handles_pii", "handles_payment_data",
            "externally_exposed", "data_residency", "regions", "depends_on",
            "sla_availability", "sla_p95_ms", "sla_support_hours", "docs_url", "runbook_url",
            "repository_url", "tags", "state", "risk", "expires_at", "last_seen_at",
            "went_live_at", "retired_at", "retired_reason", "created_at", "updated_at", "url",
        ]  # fmt: skip
        read_only_fields = [
            "state", "expires_at", "last_seen_at", "went_live_at", "retired_at",
            "retired_reason", "created_at", "updated_at",
        ]  # fmt: skip
        extra_kwargs = {
            "slug": {
                "error_messages": {"unique": "Another app already uses this slug."},
            }
        }

    @extend_schema_field(serializers.ChoiceField(choices=Risk.choices))
    def get_risk(self, app: MicroApp) -> str:
        return app.risk

    def _user(self):
        return self.context["request"].user

    def validate_slug(self, value: str) -> str:
        if self.instance is not None and value != self.instance.slug:
            raise serializers.ValidationError("The slug is the app's permanent address.")
        return value

    def validate_team(self, team: Team) -> Team:
        user = self._user()
        if not roles.is_platform(user) and team.pk not in roles.team_ids(user):
            raise serializers.ValidationError("You can only register apps for your own teams.")
        return team

    def validate_depends_on(self, apps: list[MicroApp]) -> list[MicroApp]:
        if self.instance is not None and any(a.pk == self.instance.pk for a in apps):
            raise serializers.ValidationError("An app cannot depend on itself.")
        return apps

    def validate(self, attrs: dict) -> dict:
        current = self.instance

        def value(field):
            if field in attrs:
                return attrs[field]
            return getattr(current, field) if current is not None else None

        errors: dict[str, str] = {}
        if value("handles_pii") and not value("data_residency"):
            errors["data_residency"] = (
                "Apps that handle personal data must declare where that data must stay."
            )
        if errors:
            raise serializers.ValidationError(errors)
        if current is None and "owner" not in attrs:
            attrs["owner"] = self._user()
        return attrs


class RetireSerializer(serializers.Serializer):
    reason = serializers.CharField(min_length=5, max_length=2000)
