"""Backstage ``catalog-info.yaml`` imports: in the request up to a cap, or as background jobs."""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import permissions
from catalog.api.contract_serializers import (
    BackstageImportSerializer,
    ImportJobSerializer,
    ImportReportSerializer,
)
from catalog.api.parsers import BoundedJSONParser, PlainTextParser
from catalog.backstage import importer as backstage
from catalog.backstage import jobs as backstage_jobs
from catalog.forms.imports import UnreadableFile, read_uploads
from catalog.models import ImportJob, Team

TRUE = ("1", "true", "yes")


def too_many(limit: int, background: bool) -> Response:
    if background:
        detail = (
            f"The file holds more than {limit} entities, the limit of a background import "
            "(APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND). Split the catalog into several files."
        )
    else:
        detail = (
            f"The file holds more than {limit} entities, the limit of an import answered in "
            "the request (APPKEEPER_BACKSTAGE_MAX_ENTITIES). Send it again with "
            "?background=true to import it as a background job and follow its progress."
        )
    return Response(
        {"detail": detail, "code": "too_many_entities", "limit": limit},
        status=status.HTTP_413_REQUEST_ENTITY_TOO_LARGE,
    )


def scope_team(user, slug: str) -> Team | None:
    """The team a background import is for; refused unless the user may register its apps."""
    if not slug:
        return None
    team = Team.objects.filter(slug=slug).first()
    if team is None or not permissions.can_register_app(user, team):
        raise ValidationError({"team": ["Name one of your teams."]})
    return team


class BackstageImportView(APIView):
    """Import a Backstage ``catalog-info.yaml`` (multi-document): all or nothing, or queue
    a background job with ``background``. Several ``file`` parts are read as one stream
    and always queued."""

    # JSON and forms first: the catch-all text parser (YAML) would also take a JSON body.
    parser_classes = [BoundedJSONParser, MultiPartParser, PlainTextParser]

    @extend_schema(
        request={
            "application/yaml": OpenApiTypes.STR,
            "text/plain": OpenApiTypes.STR,
            "application/json": BackstageImportSerializer,
            "multipart/form-data": BackstageImportSerializer,
        },
        parameters=[
            OpenApiParameter("dry_run", bool, description="Report without writing."),
            OpenApiParameter(
                "background",
                bool,
                description="Queue a background job: 202 with its URL (also in Location).",
            ),
            OpenApiParameter("team", str, description="Background jobs: the team it is for."),
        ],
        responses={
            200: ImportReportSerializer,
            201: ImportReportSerializer,
            202: ImportJobSerializer,
            400: OpenApiResponse(
                # Two shapes: the entity report when entities were refused, or field errors
                # (`yaml`, `file`, `dry_run`) / a parse error when no report could be made.
                {
                    "anyOf": [
                        {"$ref": "#/components/schemas/ImportReport"},
                        {"$ref": "#/components/schemas/ApiError"},
                    ]
                },
                description="Refused: an import report with each entity's errors (nothing "
                "was written), or field errors when the body is not a readable "
                "catalog-info.yaml.",
            ),
            429: OpenApiResponse(
                description="Background: the caller already has 3 imports queued or running."
            ),
            413: OpenApiResponse(
                description="Over APPKEEPER_BACKSTAGE_MAX_BYTES, or more entities than "
                "APPKEEPER_BACKSTAGE_MAX_ENTITIES (in the request) or "
                "APPKEEPER_BACKSTAGE_MAX_ENTITIES_BACKGROUND (background): `limit` says which."
            ),
        },
        operation_id="apps_import",
    )
    def post(self, request):
        params = request.query_params
        dry_run = params.get("dry_run", "").lower() in TRUE
        background = params.get("background", "").lower() in TRUE
        team_slug = params.get("team", "")
        if isinstance(request.data, str | bytes):
            if request.content_type.startswith("application/json"):
                # A JSON string is not the documented JSON body, whatever YAML it holds.
                raise ValidationError(
                    {"non_field_errors": ["Send a JSON object with yaml, or the YAML as text."]}
                )
            raw = request.data
        else:
            body = BackstageImportSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            uploads = request.FILES.getlist("file")
            try:
                raw, files = read_uploads(uploads) if uploads else ("", 0)
            except backstage.TooManyEntities as exc:
                return too_many(exc.limit, background=True)
            except UnreadableFile as exc:
                raise ValidationError({"file": [str(exc)]}) from None
            raw = raw or body.validated_data.get("yaml", "")
            dry_run = dry_run or body.validated_data.get("dry_run", False)
            # Several files are one batch, whose entities may refer to each other: always
            # a background job, followed on its page.
            background = background or files > 1 or body.validated_data.get("background", False)
            team_slug = team_slug or body.validated_data.get("team", "")
        try:
            text = backstage.upload_text(raw)
        except ValueError as exc:
            raise ValidationError({"yaml": [str(exc)]}) from None
        if not text.strip():
            raise ValidationError({"yaml": ["Send a catalog-info.yaml."]})
        if background:
            return self.queue(request, text, dry_run, scope_team(request.user, team_slug))
        if team_slug:
            raise ValidationError({"team": ["Only a background import is for one team."]})
        limit = settings.APPKEEPER_BACKSTAGE_MAX_ENTITIES
        try:
            report = backstage.import_catalog_info(
                text=text, user=request.user, request=request, dry_run=dry_run, limit=limit
            )
        except backstage.TooManyEntities:
            return too_many(limit, background=False)
        except ValueError as exc:
            raise ValidationError({"yaml": [str(exc)]}) from None
        except backstage.ImportRejected as rejected:
            return Response(rejected.report.as_dict(), status=status.HTTP_400_BAD_REQUEST)
        code = status.HTTP_200_OK if dry_run else status.HTTP_201_CREATED
        return Response(report.as_dict(), status=code)

    def queue(self, request, text: str, dry_run: bool, team: Team | None) -> Response:
        if not permissions.can_register_app(request.user, team):
            # Nothing the caller could import would pass: say so now, not after a job.
            raise ValidationError({"team": ["You can only import apps for your own teams."]})
        try:
            job = backstage_jobs.import_start(
                user=request.user, text=text, dry_run=dry_run, team=team
            )
        except backstage.TooManyEntities as exc:
            return too_many(exc.limit, background=True)
        except ValueError as exc:
            raise ValidationError({"yaml": [str(exc)]}) from None
        except backstage_jobs.TooManyJobs as exc:
            return Response(
                {"detail": str(exc), "code": "too_many_jobs"},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
            )
        data = ImportJobSerializer(job).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})


class ImportJobListView(ListAPIView):
    """Background imports the caller may see: their own, their teams', all for the
    platform team; newest first."""

    serializer_class = ImportJobSerializer

    def get_queryset(self):
        return (
            ImportJob.objects.visible_to(self.request.user)
            .select_related("created_by", "team")
            .defer("document", "resume")
        )


class ImportJobDetailView(APIView):
    """One background import: state, progress and the (bounded) report. Poll it."""

    @extend_schema(responses=ImportJobSerializer, operation_id="backstage_imports_retrieve")
    def get(self, request, pk: int):
        job = get_object_or_404(
            ImportJob.objects.visible_to(request.user)
            .select_related("created_by", "team")
            .defer("document", "resume"),
            pk=pk,
        )
        return Response(ImportJobSerializer(job).data)
