"""Shapes of the contract registry's requests and answers (documented in the schema)."""

from __future__ import annotations

from rest_framework import serializers

from catalog.api.schema import StrictBooleanField, StrictCharField, StrictModelSerializer
from catalog.choices import ContractKind
from catalog.contract_services import VERSION_LABEL_MESSAGE, VERSION_LABEL_PATTERN
from catalog.models import Contract


class ChangeSerializer(serializers.Serializer):
    id = serializers.CharField()
    level = serializers.ChoiceField(choices=["ERR", "WARN", "INFO"])
    message = serializers.CharField()
    operation = serializers.CharField(allow_blank=True, allow_null=True)
    path = serializers.CharField(allow_blank=True, allow_null=True)
    location = serializers.CharField(allow_blank=True, allow_null=True)


class ErrorSerializer(serializers.Serializer):
    path = serializers.CharField()
    message = serializers.CharField()


class ContractSerializer(StrictModelSerializer):
    author = serializers.SlugRelatedField(slug_field="username", read_only=True)
    breaking_changes = serializers.SerializerMethodField()

    class Meta:
        model = Contract
        fields = [
            "version",
            "kind",
            "spec_version",
            "sha256",
            "is_valid",
            "breaking",
            "breaking_changes",
            "change_counts",
            "author",
            "created_at",
        ]

    def get_breaking_changes(self, contract: Contract) -> int:
        return contract.change_counts.get("ERR", 0)


class ContractDetailSerializer(ContractSerializer):
    changes = ChangeSerializer(many=True, read_only=True)
    errors = ErrorSerializer(many=True, read_only=True)
    document = serializers.SerializerMethodField()
    created = serializers.BooleanField(
        read_only=True,
        allow_null=True,
        help_text="On upload: whether a new version was stored (false: the same document "
        "was already there). Null when reading a version.",
    )

    class Meta(ContractSerializer.Meta):
        fields = [*ContractSerializer.Meta.fields, "changes", "errors", "document", "created"]

    def get_document(self, contract: Contract) -> dict | str | None:
        if not self.context.get("include_document"):
            return None
        return contract.sdl if contract.kind == ContractKind.GRAPHQL else contract.document


class ContractUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=ContractKind.choices, required=False)
    version = serializers.RegexField(
        VERSION_LABEL_PATTERN,
        required=False,
        help_text="Version label; defaults to info.version (OpenAPI, made URL-safe) or v<n>.",
        error_messages={"invalid": VERSION_LABEL_MESSAGE},
    )
    spec = serializers.JSONField(required=False, help_text="The document: text or an object.")
    file = serializers.FileField(required=False, help_text="Or upload the document as a file.")


class ContractCheckRequestSerializer(serializers.Serializer):
    app = serializers.SlugField()
    kind = serializers.ChoiceField(choices=ContractKind.choices, required=False)
    spec = serializers.JSONField(help_text="The candidate document: text or an object.")


class ContractCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ErrorSerializer(many=True)
    spec_version = serializers.CharField()
    base_version = serializers.CharField(allow_null=True)
    changes = ChangeSerializer(many=True, help_text="Worst first, at most 1000.")
    change_counts = serializers.DictField(child=serializers.IntegerField())
    compatible = serializers.BooleanField()


class BackstageImportSerializer(serializers.Serializer):
    yaml = StrictCharField(required=False, trim_whitespace=False)
    file = serializers.FileField(required=False)
    dry_run = StrictBooleanField(required=False, default=False)


class EntityReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    action = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    warnings = serializers.ListField(child=serializers.CharField())


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    written = serializers.BooleanField()
    summary = serializers.DictField(child=serializers.IntegerField())
    entities = EntityReportSerializer(many=True)
