"""Contract registry endpoints: versions, changelogs, CI dry runs, Backstage export (imports:
``backstage_views``)."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import permissions
from catalog.api.contract_serializers import (
    AcknowledgeAnswerSerializer,
    AcknowledgeRequestSerializer,
    ContractChangeConflictSerializer,
    ContractCheckRequestSerializer,
    ContractCheckSerializer,
    ContractSerializer,
    ContractUploadAnswerSerializer,
    ContractUploadSerializer,
    ContractVersionSerializer,
    RescheduleRefusedSerializer,
    RescheduleRequestSerializer,
    WithdrawRequestSerializer,
)
from catalog.api.parsers import BoundedJSONParser
from catalog.backstage import export as backstage_export
from catalog.breaking_services import (
    contract_acknowledge,
    contract_reschedule,
    contract_withdraw,
)
from catalog.contract_impact import acknowledgement_status, contract_impact
from catalog.contract_services import (
    contract_changelog,
    contract_check,
    contract_upload,
    summarise,
)
from catalog.models import MicroApp


class ContractJSONParser(BoundedJSONParser):
    """Contracts may nest up to 200 levels (the engine enforces that), plus the envelope."""

    max_depth = 202


def visible_app(request, slug: str) -> MicroApp:
    return get_object_or_404(MicroApp.objects.visible_to(request.user), slug=slug)


def managed_app(request, slug: str) -> MicroApp:
    app = visible_app(request, slug)
    permissions.require("upload_contract", request.user, app)
    return app


def document_text(data, files) -> tuple[str | bytes, str | None]:
    """The contract from a file upload, a string, or a JSON object, and its declared kind."""
    kind = data.get("kind") or None
    upload = files.get("file") if files else None
    if upload is not None:
        if upload.size > settings.APPKEEPER_CONTRACT_MAX_BYTES:
            from contracts import DocumentTooLarge

            raise DocumentTooLarge(
                f"The file is {upload.size} bytes; the limit is "
                f"{settings.APPKEEPER_CONTRACT_MAX_BYTES}."
            )
        return upload.read(), kind
    spec = data.get("spec")
    if spec is None or spec == "":
        raise ValidationError({"spec": ["Send the contract as `spec` (text or object) or `file`."]})
    if isinstance(spec, dict | list):
        return json.dumps(spec), kind or "openapi"
    if not isinstance(spec, str):
        raise ValidationError({"spec": ["Expected a document as text or a JSON object."]})
    return spec, kind


class AppContractsView(APIView):
    """List an app's contract versions, or upload a new one."""

    parser_classes = [ContractJSONParser, MultiPartParser]

    @extend_schema(responses=ContractSerializer(many=True), operation_id="apps_contracts_list")
    def get(self, request, slug: str):
        app = visible_app(request, slug)
        contracts = app.contracts.select_related("author").order_by("-created_at", "-pk")
        return Response(ContractSerializer(contracts, many=True).data)

    @extend_schema(
        request={
            "application/json": ContractUploadSerializer,
            "multipart/form-data": ContractUploadSerializer,
        },
        responses={
            201: ContractUploadAnswerSerializer,
            200: ContractUploadAnswerSerializer,
            400: OpenApiResponse(description="Malformed or invalid document, with all errors."),
            403: OpenApiResponse(description="An override_reason from outside the platform team."),
            413: OpenApiResponse(description="Document over 10 MB."),
            422: OpenApiResponse(
                description="`code: breaking_needs_notice`: breaking changes touch live "
                "dependents and neither effective_at is far enough ahead nor the platform "
                "team overrides; the field's message and the `impact`; nothing stored."
            ),
        },
        operation_id="apps_contracts_create",
    )
    def post(self, request, slug: str):
        """Register a version. The answer's `impact` lists every live dependent and, for
        the direct ones, the breaking changes that touch what they call; their owners are
        notified. A version with `effective_at` is `scheduled` until then."""
        app = managed_app(request, slug)
        body = ContractUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        content, kind = document_text(request.data, request.FILES)
        contract, created = contract_upload(
            app=app,
            actor=request.user,
            content=content,
            kind=kind,
            version=body.validated_data.get("version", ""),
            effective_at=body.validated_data.get("effective_at"),
            override_reason=body.validated_data.get("override_reason", ""),
        )
        data = ContractUploadAnswerSerializer(contract, context={"include_document": False}).data
        data["created"] = created
        data["impact"] = contract_impact(app=app, changes=contract.changes).as_dict()
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class AppContractDetailView(APIView):
    """One version with its document, validation and changes against its predecessor."""

    @extend_schema(responses=ContractVersionSerializer, operation_id="apps_contracts_retrieve")
    def get(self, request, slug: str, version: str):
        """The version, and for a breaking one which touched dependents have acknowledged
        it and which have not yet."""
        app = visible_app(request, slug)
        contract = get_object_or_404(app.contracts.select_related("author"), version=version)
        contract.app = app
        context = {
            "include_document": True,
            "acknowledgements": acknowledgement_status(contract=contract),
        }
        return Response(ContractVersionSerializer(contract, context=context).data)


class AppContractAcknowledgeView(APIView):
    """A dependent's owners acknowledge a breaking version of an app they call."""

    @extend_schema(
        request=AcknowledgeRequestSerializer,
        responses={
            201: AcknowledgeAnswerSerializer,
            200: AcknowledgeAnswerSerializer,
            400: OpenApiResponse(
                description="The app does not depend on this one, or the version breaks nothing."
            ),
            403: OpenApiResponse(description="The caller may not edit the dependent app."),
        },
        operation_id="apps_contracts_acknowledge",
    )
    def post(self, request, slug: str, version: str):
        """Acknowledge for `app` (a live app calling this one), as its owner, a member of
        its team or the platform team. Acknowledging twice answers the first (200)."""
        provider = visible_app(request, slug)
        contract = get_object_or_404(provider.contracts, version=version)
        contract.app = provider
        body = AcknowledgeRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dependent = (
            MicroApp.objects.visible_to(request.user)
            .filter(slug=body.validated_data["app"])
            .first()
        )
        if dependent is None:
            raise ValidationError({"app": ["No such app."]})
        ack, created = contract_acknowledge(
            contract=contract,
            dependent=dependent,
            actor=request.user,
            comment=body.validated_data.get("comment", ""),
        )
        ack.created = created
        data = AcknowledgeAnswerSerializer(ack).data
        return Response(data, status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


def _version_answer(request, contract) -> Response:
    context = {
        "include_document": False,
        "acknowledgements": acknowledgement_status(contract=contract),
    }
    return Response(ContractVersionSerializer(contract, context=context).data)


class AppContractWithdrawView(APIView):
    """Withdraw a scheduled version before it takes effect."""

    @extend_schema(
        request=WithdrawRequestSerializer,
        responses={
            200: ContractVersionSerializer,
            400: OpenApiResponse(description="No reason, or one over the length limit."),
            403: OpenApiResponse(description="The caller may not upload contracts for the app."),
            409: ContractChangeConflictSerializer,
        },
        operation_id="apps_contracts_withdraw",
    )
    def post(self, request, slug: str, version: str):
        """Mark the version withdrawn (`status: withdrawn`): it never becomes current and
        the next upload is diffed against the version before it; its label stays taken.
        The dependents' owners its upload notified are told once. 409 with `code`
        `already_withdrawn`, `already_in_effect`, or `built_upon` when a later upload of
        the same kind builds on it (withdraw that one first)."""
        app = managed_app(request, slug)
        contract = get_object_or_404(app.contracts, version=version)
        contract.app = app
        body = WithdrawRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contract = contract_withdraw(
            contract=contract, actor=request.user, reason=body.validated_data["reason"]
        )
        return _version_answer(request, contract)


class AppContractRescheduleView(APIView):
    """Move a scheduled version's date."""

    @extend_schema(
        request=RescheduleRequestSerializer,
        responses={
            200: ContractVersionSerializer,
            400: OpenApiResponse(description="A missing or malformed date."),
            403: OpenApiResponse(
                description="The caller may not upload contracts for the app, or sent "
                "override_reason from outside the platform team."
            ),
            409: ContractChangeConflictSerializer,
            422: RescheduleRefusedSerializer,
        },
        operation_id="apps_contracts_reschedule",
    )
    def post(self, request, slug: str, version: str):
        """Later is always allowed. Earlier must leave the dependents at least
        APPKEEPER_BREAKING_NOTICE_DAYS from their notice (sent at the upload), unless the
        platform team overrides with `override_reason`; otherwise 422 with the message on
        `effective_at`. The notified owners hear the new date once; acknowledgements
        stay. The same 409s as withdrawing."""
        app = managed_app(request, slug)
        contract = get_object_or_404(app.contracts, version=version)
        contract.app = app
        body = RescheduleRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        contract = contract_reschedule(
            contract=contract,
            actor=request.user,
            effective_at=body.validated_data["effective_at"],
            override_reason=body.validated_data.get("override_reason", ""),
        )
        return _version_answer(request, contract)


class AppContractDocumentView(APIView):
    """The stored (normalised) document itself: JSON for OpenAPI, SDL text for GraphQL."""

    @extend_schema(
        responses={
            (200, "application/json"): OpenApiTypes.OBJECT,
            (200, "text/plain"): OpenApiTypes.STR,
        },
        operation_id="apps_contracts_document",
    )
    def get(self, request, slug: str, version: str):
        app = visible_app(request, slug)
        contract = get_object_or_404(app.contracts, version=version)
        if contract.kind == "graphql":
            return HttpResponse(contract.sdl, content_type="text/plain; charset=utf-8")
        return HttpResponse(json.dumps(contract.document), content_type="application/json")


class AppContractChangelogView(APIView):
    """Changes between any two versions (``from`` and ``to`` labels)."""

    @extend_schema(
        parameters=[
            OpenApiParameter("from", str, required=True),
            OpenApiParameter("to", str, required=True),
        ],
        responses=ContractCheckSerializer,
        operation_id="apps_contracts_changelog",
    )
    def get(self, request, slug: str):
        app = visible_app(request, slug)
        labels = {k: request.query_params.get(k, "") for k in ("from", "to")}
        missing = {k: ["Name a version."] for k, v in labels.items() if not v}
        if missing:
            raise ValidationError(missing)
        versions = {c.version: c for c in app.contracts.filter(version__in=labels.values())}
        for label in labels.values():
            if label not in versions:
                raise NotFound(f"No version {label!r} of {app.slug}.")
        older, newer = versions[labels["from"]], versions[labels["to"]]
        changes, counts = summarise(contract_changelog(older, newer))
        return Response(
            {
                "valid": True,
                "errors": [],
                "spec_version": newer.spec_version,
                "base_version": older.version,
                "changes": changes,
                "change_counts": counts,
                "compatible": not counts["ERR"],
                "impact": None,
            }
        )


class ContractCheckView(APIView):
    """CI dry run: is this document valid, and what does it break against the latest
    registered version? Writes nothing."""

    parser_classes = [ContractJSONParser]

    @extend_schema(
        request=ContractCheckRequestSerializer,
        responses={
            200: ContractCheckSerializer,
            400: OpenApiResponse(description="Malformed document or unknown app."),
        },
        operation_id="contracts_check",
    )
    def post(self, request):
        """Validate a candidate, list its changes against the app's newest version (a
        scheduled one included) and its `impact`: every live dependent, and for the
        direct ones the breaking changes that touch what they call."""
        body = ContractCheckRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        app = MicroApp.objects.visible_to(request.user).filter(slug=body.validated_data["app"])
        app = app.first()
        if app is None:
            raise ValidationError({"app": ["No such app."]})
        content, kind = document_text(request.data, None)
        result = contract_check(app=app, content=content, kind=kind)
        return Response(result.as_dict())


class BackstageExportView(APIView):
    """The app as a ``catalog-info.yaml``, with its latest contract as an API entity."""

    @extend_schema(
        responses={
            (200, "application/yaml"): OpenApiResponse(
                OpenApiTypes.STR,
                description="The catalog-info.yaml text: a Component entity, then (when the "
                "app has a contract) an API entity, as `---`-separated YAML documents.",
            )
        },
        operation_id="apps_catalog_info",
    )
    def get(self, request, slug: str):
        app = get_object_or_404(
            backstage_export.export_queryset(MicroApp.objects.visible_to(request.user)),
            slug=slug,
        )
        response = HttpResponse(backstage_export.export_app(app), content_type="application/yaml")
        response["Content-Disposition"] = f'inline; filename="{app.slug}-catalog-info.yaml"'
        return response
