"""Lifecycle endpoints: renew, rotate the ingestion secret, sunset cases, telemetry."""

from __future__ import annotations

import hashlib
import json
import math

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog.api.permissions import AppActionPermission
from catalog.api.retirement_serializers import RetireConflictSerializer
from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle import observed, services, telemetry
from lifecycle.api.serializers import (
    ObservedCallsSerializer,
    RenewalSerializer,
    RenewSerializer,
    SecretSerializer,
    SunsetCaseSerializer,
    SunsetDecideSerializer,
    SunsetRespondSerializer,
    TelemetryAcceptedSerializer,
    TelemetryBatchSerializer,
    TelemetryErrorSerializer,
)
from lifecycle.api.throttles import SensitiveThrottle, WindowRateThrottle
from lifecycle.filters import SunsetCaseFilterSet
from lifecycle.models import Renewal, SunsetCase


class AppLifecycleViewSet(viewsets.GenericViewSet):
    """Lifecycle actions on an app, addressed by its slug like the registry's endpoints."""

    serializer_class = RenewalSerializer
    permission_classes = [AppActionPermission]
    app_actions = {"renew": "renew", "rotate_secret": "rotate_secret"}
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"
    pagination_class = None

    def get_queryset(self):
        return MicroApp.objects.visible_to(self.request.user).select_related("owner", "team")

    @extend_schema(request=RenewSerializer, responses={201: RenewalSerializer})
    @action(detail=True, methods=["post"])
    def renew(self, request, slug=None):
        """Renew the app with a justification: ``expires_at = max(now, expires_at)`` plus
        ``APPKEEPER_EXPIRY_DAYS`` (90 by default; ``APPKEEPER_RECERTIFY_DAYS``, 365, for
        critical apps). Open from the first reminder (``APPKEEPER_REMINDER_DAYS``, 30 days
        before expiry by default) through the grace period, and for a sunsetting app whose
        case is for an unrenewed expiry (it becomes active again). The app's owner, its team
        and the platform team. 409 outside the window, with ``code: renewal_not_allowed``."""
        app = self.get_object()
        body = RenewSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        renewal = services.app_renew(
            app=app, actor=request.user, justification=body.validated_data["justification"]
        )
        return Response(RenewalSerializer(renewal).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses=RenewalSerializer(many=True))
    @action(detail=True, methods=["get"])
    def renewals(self, request, slug=None):
        """The app's renewal history, newest first."""
        app = self.get_object()
        rows = Renewal.objects.filter(app=app).select_related("app", "renewed_by")
        return Response(RenewalSerializer(rows, many=True).data)

    @extend_schema(request=None, responses=SecretSerializer)
    @action(
        detail=True,
        methods=["post"],
        url_path="rotate-secret",
        throttle_classes=[SensitiveThrottle],
    )
    def rotate_secret(self, request, slug=None):
        """Issue a new telemetry ingestion secret (``whsec_...``) and show it this once. The
        previous secret keeps working for 24 hours. The first call issues the first one."""
        app = self.get_object()
        secret = services.app_rotate_secret(app=app, actor=request.user)
        app.refresh_from_db(fields=["previous_ingestion_secret", "previous_secret_valid_until"])
        data = {
            "secret": secret,
            "previous_secret_valid_until": (
                app.previous_secret_valid_until
                if app.previous_secret_valid_until and app.previous_ingestion_secret
                else None
            ),
        }
        response = Response(SecretSerializer(data).data)
        response["Cache-Control"] = "no-store"
        return response

    @extend_schema(request=None, responses=ObservedCallsSerializer)
    @action(detail=True, methods=["get"], url_path="observed-calls")
    def observed_calls(self, request, slug=None):
        """The apps this app's telemetry reported calling in the last
        ``APPKEEPER_OBSERVED_CALLS_DAYS`` (90) days, busiest first, each marked declared or
        not; ``undeclared`` repeats those not declared. ``unused`` lists declared apps with
        no call in the window, only once the app's reported calls cover the whole window
        (``judges_unused``): an app that never reports calls is not judged. Two queries."""
        app = self.get_object()
        comparison = observed.compare_app_calls(app=app)
        return Response(ObservedCallsSerializer(comparison).data)

    sensitive_scope = "sensitive"


class SunsetCaseViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Sunset cases: retirement workflows for low usage or an unrenewed expiry."""

    serializer_class = SunsetCaseSerializer
    permission_classes = [AppActionPermission]
    app_actions = {"respond": "respond_sunset", "decide": "decide_sunset"}
    filterset_class = SunsetCaseFilterSet
    ordering_fields = ["opened_at", "grace_ends_at", "closed_at"]
    ordering = ["-opened_at"]

    def get_queryset(self):
        return SunsetCase.objects.visible_to(self.request.user).for_list()

    @extend_schema(
        request=SunsetRespondSerializer,
        responses={200: SunsetCaseSerializer, 409: RetireConflictSerializer},
    )
    @action(detail=True, methods=["post"])
    def respond(self, request, pk=None):
        """The owner's answer within ``APPKEEPER_SUNSET_RESPONSE_DAYS`` (14 by default):
        ``accept`` retires the app now; ``contest`` with a justification (20+ characters)
        asks the platform team. While live apps call the app, ``accept`` needs
        ``confirm_dependents`` listing each of them (409 ``dependents_not_confirmed``
        with the ``dependents`` otherwise)."""
        case = self.get_object()
        body = SunsetRespondSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.sunset_respond(
            case=case,
            actor=request.user,
            response=body.validated_data["response"],
            justification=body.validated_data.get("justification", ""),
            confirm_dependents=body.validated_data.get("confirm_dependents", []),
        )
        return Response(self.get_serializer(self._reload(case)).data)

    @extend_schema(
        request=SunsetDecideSerializer,
        responses={200: SunsetCaseSerializer, 409: RetireConflictSerializer},
    )
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Platform team only, on a contested case, a critical app's case, or one escalated
        because live apps call the app: ``uphold`` keeps the app (active again, fresh
        expiry), ``retire`` retires it, with ``confirm_dependents`` listing each live app
        that calls it (409 ``dependents_not_confirmed`` with the ``dependents`` otherwise)."""
        case = self.get_object()
        body = SunsetDecideSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = services.sunset_decide(
            case=case,
            actor=request.user,
            decision=body.validated_data["decision"],
            comment=body.validated_data.get("comment", ""),
            confirm_dependents=body.validated_data.get("confirm_dependents", []),
        )
        return Response(self.get_serializer(self._reload(case)).data)

    def _reload(self, case: SunsetCase) -> SunsetCase:
        return SunsetCase.objects.for_list().get(pk=case.pk)


def _answer(status_code: int, body: dict, **headers: str) -> HttpResponse:
    # The answers are plain str/int/bool dicts: json.dumps writes what JsonResponse's
    # DjangoJSONEncoder would, without its encoder class on the busiest endpoint. Keys are
    # sorted so that a replay, read back from PostgreSQL's jsonb (which keeps keys in its
    # own order), is the same bytes as the first answer.
    response = HttpResponse(
        json.dumps(body, sort_keys=True), content_type="application/json", status=status_code
    )
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


class TelemetryView(APIView):
    """Signed usage ingestion (Standard Webhooks). Authenticated by the signature, not by a
    user: the view reads the raw bytes itself, because the signature covers exactly them."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes = [WindowRateThrottle]
    throttle_scope = "telemetry"
    parser_classes: list = []

    def dispatch(self, request, *args, **kwargs):
        """POST goes straight to :meth:`ingest`: this view reads the raw bytes and answers
        JSON itself, so DRF's request wrapping, authentication, content negotiation and
        response rendering would be pure overhead on the busiest endpoint. The
        throttle still applies, with DRF's 429 answer. Other methods keep DRF's answers
        (405, OPTIONS); the schema comes from :meth:`post` as before."""
        if request.method != "POST":
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs, self.request = args, kwargs, request
        for throttle in self.get_throttles():
            if not throttle.allow_request(request, self):
                wait = math.ceil(throttle.wait())
                unit = "second" if wait == 1 else "seconds"
                detail = f"Request was throttled. Expected available in {wait} {unit}."
                return _answer(429, {"detail": detail}, Retry_After=str(wait))
        return self.post(request)

    @extend_schema(
        operation_id="telemetry_ingest",
        request=TelemetryBatchSerializer,
        parameters=[
            OpenApiParameter("webhook-id", OpenApiTypes.STR, OpenApiParameter.HEADER, True),
            OpenApiParameter(
                "webhook-timestamp",
                OpenApiTypes.INT,
                OpenApiParameter.HEADER,
                True,
                description="Seconds since the epoch, within 5 minutes of the server's clock.",
            ),
            OpenApiParameter(
                "webhook-signature",
                OpenApiTypes.STR,
                OpenApiParameter.HEADER,
                True,
                description='Space-separated "v1,<base64 HMAC-SHA256 of id.timestamp.body>".',
            ),
        ],
        responses={
            202: TelemetryAcceptedSerializer,
            400: OpenApiResponse(TelemetryErrorSerializer, "A report is invalid (with index)."),
            401: OpenApiResponse(TelemetryErrorSerializer, "Missing or bad signature."),
            410: OpenApiResponse(TelemetryErrorSerializer, "The app is retired."),
            413: OpenApiResponse(TelemetryErrorSerializer, "Body over 1 MB."),
            422: OpenApiResponse(TelemetryErrorSerializer, "webhook-id reused, other body."),
        },
    )
    def post(self, request):
        """Push daily usage (``reports``, up to 1000) or a heartbeat (``reports: []``).

        Each report replaces the (app, date, region) daily rollup; its optional ``calls``
        (up to 100: the apps it called that day, with requests and errors) replace the
        (caller, callee, date, region) rows of the apps they name. A call to an unknown,
        draft or retired app, or to the app itself, is not recorded and comes back in
        ``ignored_calls`` with its report index and field. Every accepted call sets
        the app's ``last_seen_at``. A repeated ``webhook-id`` with the same body gets the
        same answer and is stored once."""
        try:
            return self.ingest(request)
        except telemetry.Rejected as rejected:
            headers = {}
            if rejected.status == 401:
                headers["WWW_Authenticate"] = 'Signature realm="appkeeper-telemetry"'
            return _answer(rejected.status, rejected.body, **headers)

    def ingest(self, request) -> HttpResponse:
        """1. size → 413; 2. headers and timestamp → 401; 3. body shape → 400;
        4. app and signature (current or, for 24 h, previous secret) → 401; retired → 410;
        5. reports and their calls → 400 with indexes (calls to apps the catalog cannot
        record them against are left out and listed in ``ignored_calls``);
        6. store once, or replay the stored answer."""
        limit = settings.APPKEEPER_TELEMETRY_MAX_BYTES
        too_big = telemetry.Rejected(413, f"The body must be at most {limit} bytes.")
        try:
            declared = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            declared = 0
        if declared > limit:
            raise too_big
        try:
            body = request.body
        except RequestDataTooBig:
            raise too_big from None
        except OSError:
            raise telemetry.Rejected(400, "The body could not be read.") from None
        if len(body) > limit:
            raise too_big
        envelope = telemetry.read_headers(request.META)
        slug, reports = telemetry.parse_body(body)

        now = timezone.now()
        credentials = services.telemetry_credentials(slug, now=now)
        if credentials is None:
            raise telemetry.unauthorized("The signature does not match.")
        if not credentials.keys:
            raise telemetry.unauthorized(
                "This app has no ingestion secret yet: create one on its page or with "
                "POST /api/v1/apps/{slug}/rotate-secret/."
            )
        if not telemetry.signature_matches(envelope, body, credentials.keys):
            raise telemetry.unauthorized("The signature does not match.")
        if credentials.state == AppState.RETIRED:
            raise telemetry.Rejected(410, f"{slug} is retired and no longer takes telemetry.")
        batch = telemetry.validate_reports(reports, today=now.date(), caller_id=credentials.app_id)
        digest = hashlib.sha256(body).hexdigest()
        stored = self.store(credentials.app_id, slug, envelope, batch, digest, now)
        if stored.replayed:
            return _answer(stored.status, stored.body, Idempotent_Replayed="true")
        return _answer(stored.status, stored.body)

    def store(self, app_id, slug, envelope, batch, digest, now):
        clean = batch.reports
        answer = {
            "app": slug,
            "accepted": len(clean),
            "heartbeat": not clean,
            "calls": batch.call_count,
            "ignored_calls": batch.ignored_calls,
            "webhook_id": envelope.msg_id,
            "received_at": now.isoformat().replace("+00:00", "Z"),
        }
        try:
            return services.telemetry_store(
                app_id=app_id,
                webhook_id=envelope.msg_id,
                body_sha256=digest,
                rows=clean,
                answer=answer,
                now=now,
            )
        except services.DeliveryConflict:
            raise telemetry.Rejected(
                422,
                "This webhook-id was already used for a different body; "
                "use a new id for a new message.",
            ) from None
