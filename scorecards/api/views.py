"""Scorecards, rubric, cleanup report and chargeback over the API: thin views over the
selectors in ``scorecards``; errors are always JSON, even when CSV was asked for."""

from __future__ import annotations

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, viewsets
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import permissions
from scorecards import chargeback as cb
from scorecards.api.renderers import CSVRenderer
from scorecards.api.serializers import (
    ChargebackSerializer,
    CleanupReportSerializer,
    ReportErrorSerializer,
    RubricSerializer,
    ScorecardSerializer,
    TeamRollupsSerializer,
)
from scorecards.choices import GroupKey
from scorecards.cleanup import CSV_HEADER, cleanup_csv_rows, cleanup_report
from scorecards.exports import csv_text
from scorecards.filters import ScorecardFilterSet, latest_scored_quarter
from scorecards.models import Scorecard
from scorecards.periods import (
    DATE_RE,
    MONTH_RE,
    PERIOD_FORMS,
    QUARTER_RE,
    PeriodError,
    parse_period,
    parse_quarter,
    previous_quarter,
)
from scorecards.rollups import grade_counts, team_rollups
from scorecards.rubric import get_rubric

_KEYS = "|".join(GroupKey.values)
GROUP_BY_PATTERN = rf"^({_KEYS})(,({_KEYS}))?$"
JSON = "application/json"
CSV = "text/csv"
ERRORS = {
    (400, JSON): OpenApiResponse(OpenApiTypes.OBJECT, description="Invalid parameters."),
    (401, JSON): OpenApiResponse(ReportErrorSerializer, description="Not signed in."),
    (403, JSON): OpenApiResponse(ReportErrorSerializer, description="Not allowed."),
}
QUARTER_PARAM = OpenApiParameter(
    "quarter",
    str,
    description="A quarter like 2026-Q4; default: the latest quarter with scorecards.",
    pattern=QUARTER_RE.pattern,
)
FORMAT_PARAM = OpenApiParameter(
    "format", str, enum=["json", "csv"], description="csv: same as Accept: text/csv."
)


class JSONErrorsMixin:
    """Answer errors as JSON whatever was negotiated, and an unknown ``format`` as a 400."""

    def perform_content_negotiation(self, request, force=False):
        wanted = request.query_params.get("format")
        formats = {renderer.format for renderer in self.get_renderers()}
        if wanted is not None and wanted not in formats and not force:
            # DRF would ignore an empty format and answer 404 for an unknown one.
            raise ValidationError(
                {"format": f"Unknown format; use {' or '.join(sorted(formats))}."}
            )
        try:
            return super().perform_content_negotiation(request, force)
        except (Http404, NotFound):
            raise ValidationError({"format": "Unknown format; use json or csv."}) from None

    def handle_exception(self, exc):
        self.request.accepted_renderer = JSONRenderer()
        self.request.accepted_media_type = JSONRenderer.media_type
        if isinstance(exc, DjangoPermissionDenied):
            exc = PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)


def _single(params, name: str) -> str | None:
    """The one value of query parameter ``name`` (None when absent); a repeated parameter
    is a 400, not silently its last value."""
    values = params.getlist(name)
    if len(values) > 1:
        raise ValidationError({name: f"Give {name} once."})
    return values[0] if values else None


def _strict_quarter(value: str | None) -> None:
    """The API takes exactly the documented pattern: no surrounding spaces."""
    if value is not None and not QUARTER_RE.fullmatch(value):
        raise ValidationError({"quarter": "Use a quarter like 2026-Q4 (Q1 to Q4)."})


def _quarter(request, *, default_latest: bool = True):
    value = _single(request.query_params, "quarter")
    _strict_quarter(value)
    try:
        if value is not None:  # present but empty is an error, not "the default"
            return parse_quarter(value)
        latest = latest_scored_quarter() if default_latest else None
        return parse_quarter(latest) if latest else previous_quarter()
    except PeriodError as exc:
        raise ValidationError({"quarter": str(exc)}) from None


def _csv_response(text: str, filename: str) -> HttpResponse:
    response = HttpResponse(text, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@extend_schema(responses={200: ScorecardSerializer(many=True), **ERRORS})
class ScorecardViewSet(JSONErrorsMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    """Stored quarterly scorecards, filtered by quarter, team, grade and app."""

    serializer_class = ScorecardSerializer
    filterset_class = ScorecardFilterSet
    ordering_fields = ["overall", "grade", "app__name", "team__name"]
    ordering = ["-overall", "app__name"]

    def get_queryset(self):
        return Scorecard.objects.visible_to(self.request.user).for_list()

    def filter_queryset(self, queryset):
        # Present but empty (or spaced, or repeated) is a mistake, not a request for the
        # default quarter.
        _strict_quarter(_single(self.request.query_params, "quarter"))
        return super().filter_queryset(queryset)


class ScorecardTeamsView(JSONErrorsMixin, APIView):
    """Team roll-ups of a quarter: apps, average score and grade distribution, best first."""

    @extend_schema(
        operation_id="scorecards_teams",
        parameters=[QUARTER_PARAM],
        responses={200: TeamRollupsSerializer, **ERRORS},
    )
    def get(self, request):
        given = "quarter" in request.query_params
        label = _quarter(request).label if given else latest_scored_quarter()
        cards = Scorecard.objects.visible_to(request.user).for_quarter(label or "")
        data = {"quarter": label, "teams": team_rollups(cards), "grades": grade_counts(cards)}
        return Response(TeamRollupsSerializer(data).data)


class ScorecardRubricView(JSONErrorsMixin, APIView):
    """The rubric in force: dimensions, weights, criteria, bands and grade thresholds."""

    @extend_schema(operation_id="scorecards_rubric", responses={200: RubricSerializer, **ERRORS})
    def get(self, request):
        return Response(RubricSerializer(get_rubric().as_dict()).data)


class CleanupView(JSONErrorsMixin, APIView):
    """Apps that need action (D/F grade, low usage, no contract, stale telemetry, reported
    calls that disagree with the declared dependencies), by team."""

    renderer_classes = [JSONRenderer, CSVRenderer]

    @extend_schema(
        operation_id="scorecards_cleanup",
        parameters=[QUARTER_PARAM, FORMAT_PARAM],
        responses={
            (200, JSON): CleanupReportSerializer,
            (200, CSV): OpenApiResponse(OpenApiTypes.STR, description="One line per finding."),
            **ERRORS,
        },
    )
    def get(self, request):
        quarter = _quarter(request)
        groups = cleanup_report(user=request.user, quarter=quarter)
        if request.accepted_renderer.format == "csv":
            text = csv_text(CSV_HEADER, cleanup_csv_rows(groups))
            return _csv_response(text, f"cleanup-{quarter.label}.csv")
        return Response(CleanupReportSerializer({"quarter": quarter.label, "teams": groups}).data)


class SeesChargeback(BasePermission):
    """Checked before the parameters, so a user without access learns nothing from them."""

    message = cb.CHARGEBACK_DENIED

    def has_permission(self, request, view) -> bool:
        return permissions.can_see_chargeback(request.user)


class ChargebackView(JSONErrorsMixin, APIView):
    """Usage cost per group for a month, a quarter or a date range, as JSON or CSV.

    Finance and the platform team see every team; owners see their own teams only."""

    renderer_classes = [JSONRenderer, CSVRenderer]
    permission_classes = [SeesChargeback]

    @extend_schema(
        operation_id="chargeback",
        parameters=[
            OpenApiParameter(
                "period",
                str,
                pattern=r"^[1-9]\d{3}-(Q[1-4]|0[1-9]|1[0-2])$",
                description="A quarter (2026-Q4) or a month (2026-10). Default: the current "
                "quarter. from/to, when given, take precedence.",
            ),
            OpenApiParameter(
                "from",
                OpenApiTypes.DATE,
                description="First day (inclusive); alone: from that day to today.",
            ),
            OpenApiParameter(
                "to",
                OpenApiTypes.DATE,
                description="Last day (inclusive, not before from); alone: from the start "
                "of its quarter.",
            ),
            OpenApiParameter(
                "group_by",
                str,
                pattern=GROUP_BY_PATTERN,
                description="One or two of "
                + ", ".join(GroupKey.values)
                + ", comma-separated (default: team).",
            ),
            OpenApiParameter(
                "team", str, many=True, description="Only these teams (slugs); owners: own only."
            ),
            FORMAT_PARAM,
        ],
        responses={
            (200, JSON): ChargebackSerializer,
            (200, CSV): OpenApiResponse(
                OpenApiTypes.STR,
                description="Header row, one row per group, then a TOTAL row.",
            ),
            **ERRORS,
        },
    )
    def get(self, request):
        params = request.query_params
        for name in ("period", "from", "to", "group_by"):
            if name in params and not all(v.strip() for v in params.getlist(name)):
                raise ValidationError({name: f"{name} must not be empty when given."})
        for name in ("from", "to"):
            value = _single(params, name)
            if value is not None and not DATE_RE.fullmatch(value):
                # Under `period`, like every other reason the period cannot be read.
                raise ValidationError(
                    {"period": f"{name}={value!r} is not a date; use YYYY-MM-DD."}
                )
        period_value = _single(params, "period")
        if period_value is not None and not (
            QUARTER_RE.fullmatch(period_value) or MONTH_RE.fullmatch(period_value)
        ):
            raise ValidationError({"period": f"Use {PERIOD_FORMS}."})
        try:
            period = parse_period(
                params.get("period"), start=params.get("from"), end=params.get("to")
            )
        except PeriodError as exc:
            raise ValidationError({"period": str(exc)}) from None
        try:
            group_by = cb.parse_group_by(params.getlist("group_by") or None)
        except cb.GroupByError as exc:
            raise ValidationError({"group_by": str(exc)}) from None
        teams = [t for v in params.getlist("team") for t in v.split(",") if t.strip()]
        scope = cb.scope_for(request.user, [t.strip() for t in teams])
        report = cb.chargeback_report(period=period, group_by=group_by, scope=scope)
        if request.accepted_renderer.format == "csv":
            return _csv_response(
                cb.report_csv(report), f"chargeback-{period.label}-{'-'.join(group_by)}.csv"
            )
        data = {
            "period": period.as_dict(),
            "group_by": report.group_by,
            "currency": report.currency,
            "rows": report.rows,
            "totals": report.totals,
        }
        return Response(ChargebackSerializer(data).data)
