"""Shapes of the contract registry's requests and answers (documented in the schema)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from catalog.api.impact_serializers import DependentSerializer
from catalog.api.schema import StrictBooleanField, StrictCharField, StrictModelSerializer
from catalog.choices import ContractKind, ContractStatus
from catalog.contract_services import VERSION_LABEL_MESSAGE, VERSION_LABEL_PATTERN
from catalog.models import FREE_TEXT_MAX, Contract, ImportJobState


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
    withdrawn_by = serializers.SlugRelatedField(
        slug_field="username", read_only=True, allow_null=True, help_text="Who withdrew it."
    )
    breaking_changes = serializers.SerializerMethodField()
    status = serializers.ChoiceField(
        choices=ContractStatus.choices,
        read_only=True,
        help_text="scheduled: uploaded, not current before effective_at. withdrawn: "
        "withdrawn before it took effect; it never becomes current.",
    )

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
            "status",
            "effective_at",
            "override_reason",
            "withdrawn_at",
            "withdrawn_by",
            "withdrawn_reason",
        ]
        extra_kwargs = {
            "withdrawn_at": {"help_text": "When it was withdrawn; null: it was not."},
            "withdrawn_reason": {"help_text": "Why it was withdrawn."},
            "effective_at": {"help_text": "When the version becomes current; null: at its upload."},
            "override_reason": {
                "help_text": "Why the platform team let its breaking changes take effect "
                "without the migration window."
            },
        }

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
    effective_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Schedule the version: it becomes current then. Needed, at least "
        "APPKEEPER_BREAKING_NOTICE_DAYS ahead, when breaking changes touch live dependents.",
    )
    override_reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=FREE_TEXT_MAX,
        help_text="Platform team only: let breaking changes take effect without the "
        "migration window, and say why.",
    )
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


class ContractImpactSummarySerializer(serializers.Serializer):
    dependents = serializers.IntegerField(help_text="Live dependents, direct and transitive.")
    direct = serializers.IntegerField()
    touched = serializers.IntegerField(
        help_text="Direct dependents a breaking change touches: they are notified."
    )
    not_touched = serializers.IntegerField(
        help_text="Direct dependents whose declared operations no breaking change touches."
    )
    at_risk = serializers.IntegerField(
        help_text="Dependents touched, or reached through one that is."
    )
    breaking_changes = serializers.IntegerField()


class ContractDependentSerializer(DependentSerializer):
    uses_declared = serializers.BooleanField(
        help_text="False: it declared no operations, so every breaking change touches it."
    )
    touched = serializers.BooleanField(
        allow_null=True, help_text="Direct dependents only (null for the others)."
    )
    at_risk = serializers.BooleanField()
    notified = serializers.BooleanField(help_text="Its owner gets a notice of the version.")
    touching_count = serializers.IntegerField()
    touching_changes = ChangeSerializer(many=True, help_text="The first 100.")
    reason = serializers.CharField()


class ContractImpactSerializer(serializers.Serializer):
    summary = ContractImpactSummarySerializer()
    needs_notice = serializers.BooleanField(
        help_text="Breaking changes touch live dependents: the upload needs effective_at "
        "at least notice_days ahead, or a platform override."
    )
    notice_days = serializers.IntegerField()
    dependents = ContractDependentSerializer(many=True)


class ContractUploadAnswerSerializer(ContractDetailSerializer):
    impact = ContractImpactSerializer(read_only=True)

    class Meta(ContractDetailSerializer.Meta):
        fields = [*ContractDetailSerializer.Meta.fields, "impact"]


class AcknowledgementSerializer(serializers.Serializer):
    app = serializers.CharField(source="dependent.slug")
    app_name = serializers.CharField(source="dependent.name")
    acknowledged_by = serializers.CharField(
        source="acknowledged_by.username", allow_null=True, default=None
    )
    acknowledged_at = serializers.DateTimeField()
    comment = serializers.CharField()


class PendingAcknowledgementSerializer(serializers.Serializer):
    app = serializers.CharField(source="app.slug")
    app_name = serializers.CharField(source="app.name")
    team = serializers.CharField(source="app.team.slug")
    owner = serializers.CharField(
        source="app.owner.username", allow_null=True, help_text="Null for a team-owned app."
    )


class AcknowledgementsSerializer(serializers.Serializer):
    acknowledged = AcknowledgementSerializer(many=True)
    pending = PendingAcknowledgementSerializer(
        many=True, help_text="Direct dependents the breaking changes touch, not yet acknowledged."
    )


class ContractVersionSerializer(ContractDetailSerializer):
    """A version with its acknowledgements (``context["acknowledgements"]``: an
    ``AcknowledgementStatus``)."""

    acknowledgements = serializers.SerializerMethodField()

    class Meta(ContractDetailSerializer.Meta):
        fields = [*ContractDetailSerializer.Meta.fields, "acknowledgements"]

    @extend_schema_field(AcknowledgementsSerializer)
    def get_acknowledgements(self, contract: Contract) -> dict:
        status = self.context["acknowledgements"]
        return AcknowledgementsSerializer(
            {"acknowledged": status.acknowledged, "pending": status.pending}
        ).data


class AcknowledgeRequestSerializer(serializers.Serializer):
    app = serializers.SlugField(help_text="The dependent app acknowledging the version.")
    comment = StrictCharField(required=False, allow_blank=True, max_length=FREE_TEXT_MAX)


class WithdrawRequestSerializer(serializers.Serializer):
    reason = StrictCharField(
        max_length=FREE_TEXT_MAX,
        help_text="Why the version is withdrawn; the notified dependents' owners read it.",
    )


class RescheduleRequestSerializer(serializers.Serializer):
    effective_at = serializers.DateTimeField(
        help_text="The new date. Later is always allowed; earlier must stay at least "
        "APPKEEPER_BREAKING_NOTICE_DAYS after the dependents were notified (the upload).",
    )
    override_reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=FREE_TEXT_MAX,
        help_text="Platform team only: move it earlier than the migration window allows, "
        "and say why.",
    )


class ContractChangeConflictSerializer(serializers.Serializer):
    """A refused withdrawal or reschedule (409): ``already_withdrawn``,
    ``already_in_effect``, or ``built_upon`` (a later upload builds on this version)."""

    detail = StrictCharField()
    code = StrictCharField()


class RescheduleRefusedSerializer(serializers.Serializer):
    """A date that breaks the promised migration window (422, ``schedule_refused``)."""

    effective_at = serializers.ListField(child=StrictCharField())
    detail = StrictCharField()
    code = StrictCharField()


class AcknowledgeAnswerSerializer(AcknowledgementSerializer):
    created = serializers.BooleanField(help_text="False: it was acknowledged before.")


class ContractCheckSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ErrorSerializer(many=True)
    spec_version = serializers.CharField()
    base_version = serializers.CharField(allow_null=True)
    changes = ChangeSerializer(many=True, help_text="Worst first, at most 1000.")
    change_counts = serializers.DictField(child=serializers.IntegerField())
    compatible = serializers.BooleanField()
    impact = ContractImpactSerializer(
        allow_null=True,
        help_text="Who the changes reach (null on a changelog between stored versions).",
    )


class BackstageImportSerializer(serializers.Serializer):
    yaml = StrictCharField(required=False, trim_whitespace=False)
    file = serializers.FileField(required=False)
    dry_run = StrictBooleanField(required=False, default=False)
    background = StrictBooleanField(
        required=False,
        default=False,
        help_text="Queue a background import job (202) instead of importing in the request; "
        "needed above APPKEEPER_BACKSTAGE_MAX_ENTITIES entities.",
    )
    team = StrictCharField(
        required=False,
        allow_blank=True,
        help_text="Background jobs only: the team the import is for. Its members see the "
        "job, and Components owned by another team are refused.",
    )


class EntityReportSerializer(serializers.Serializer):
    kind = serializers.CharField()
    ref = serializers.CharField(help_text="The full entity reference, kind:namespace/name.")
    name = serializers.CharField()
    action = serializers.CharField(help_text="created, updated, unchanged, skipped or error.")
    errors = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    warnings = serializers.ListField(child=serializers.CharField())


class ImportReportSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    ok = serializers.BooleanField()
    written = serializers.BooleanField()
    summary = serializers.DictField(child=serializers.IntegerField())
    skipped_kinds = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Entities of kinds that are kept but not mapped (Resource, System...), "
        "counted; each is also listed as skipped.",
    )
    entities = EntityReportSerializer(many=True)


class ImportJobEntitySerializer(serializers.Serializer):
    kind = serializers.CharField()
    ref = serializers.CharField()
    action = serializers.CharField(help_text="created, updated, unchanged, skipped or error.")
    errors = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))
    warnings = serializers.ListField(child=serializers.CharField())


class ImportJobEntityErrorsSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    errors = serializers.ListField(child=serializers.DictField(child=serializers.CharField()))


class ImportJobWarningSerializer(serializers.Serializer):
    kind = serializers.CharField()
    name = serializers.CharField()
    warning = serializers.CharField()


class ImportJobAppSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    action = serializers.CharField()


class ImportJobReportSerializer(serializers.Serializer):
    errors = ImportJobEntityErrorsSerializer(many=True, help_text="The first 100.")
    warnings = ImportJobWarningSerializer(many=True, help_text="The first 100.")
    warnings_total = serializers.IntegerField()
    apps = ImportJobAppSerializer(many=True, help_text="The first 100 created or updated.")
    skipped_kinds = serializers.DictField(child=serializers.IntegerField())
    entities = ImportJobEntitySerializer(
        many=True,
        required=False,
        default=list,
        help_text="One line per entity taken, up to APPKEEPER_BACKSTAGE_REPORT_ENTITIES.",
    )


class ImportJobSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    url = serializers.SerializerMethodField()
    state = serializers.ChoiceField(choices=ImportJobState.choices)
    dry_run = serializers.BooleanField()
    created_by = serializers.CharField(source="created_by.username")
    team = serializers.CharField(source="team.slug", allow_null=True, default=None)
    total = serializers.IntegerField()
    processed = serializers.IntegerField()
    percent = serializers.IntegerField()
    summary = serializers.SerializerMethodField()
    report = ImportJobReportSerializer()
    failure = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    def get_url(self, job) -> str:
        from django.urls import reverse

        return reverse("api:backstage-import-detail", args=[job.pk])

    def get_summary(self, job) -> dict[str, int]:
        return {name: getattr(job, name) for name in job.COUNTS}
