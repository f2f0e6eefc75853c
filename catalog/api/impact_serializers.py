"""The shapes of impact answers: who depends on an app, how far away, through whom."""

from __future__ import annotations

from rest_framework import serializers


class ImpactTeamSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class DependentSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    state = serializers.CharField()
    criticality = serializers.CharField()
    team = ImpactTeamSerializer()
    owner = serializers.CharField(
        allow_null=True, help_text="The owner's username; null for a team-owned app."
    )
    depth = serializers.IntegerField(help_text="1: calls the app itself; 2: calls a depth-1 app…")
    via = serializers.CharField(
        allow_null=True, help_text="The app it calls on the way (null at depth 1)."
    )
    uses = serializers.ListField(
        child=serializers.CharField(),
        help_text="The operations it declared it calls (depth 1 only; empty: not declared).",
    )
    version_range = serializers.CharField(help_text="The versions it is pinned to, if any.")


class ImpactSerializer(serializers.Serializer):
    app = serializers.CharField()
    depth = serializers.IntegerField(help_text="How many hops were followed.")
    count = serializers.IntegerField()
    direct = serializers.IntegerField(help_text="Dependents at depth 1.")
    dependents = DependentSerializer(many=True)


class ImpactQuerySerializer(serializers.Serializer):
    depth = serializers.IntegerField(required=False, min_value=1)

    def validate_depth(self, value: int) -> int:
        limit = self.context["max_depth"]
        if value > limit:
            raise serializers.ValidationError(f"Ask for at most {limit} hops.")
        return value
