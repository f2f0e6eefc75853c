"""The registry's REST endpoints: thin viewsets over querysets and services."""

from __future__ import annotations

import dataclasses

from django.db import transaction
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.response import Response

from catalog import gate, impact, permissions, policies, services
from catalog.api.exceptions import transition_code
from catalog.api.fieldsets import FieldsetViewMixin, fieldset_parameters
from catalog.api.impact_serializers import ImpactQuerySerializer, ImpactSerializer
from catalog.api.permissions import AppActionPermission, IsPlatformOrReadOnly, TeamChatPermission
from catalog.api.policy_serializers import (
    PolicyEvaluateSerializer,
    PolicyEvaluationSerializer,
    PolicyRuleSerializer,
)
from catalog.api.retirement_serializers import RetireConflictSerializer
from catalog.api.schema import accepting_empty
from catalog.api.serializers import (
    GateSerializer,
    MicroAppCreatedSerializer,
    MicroAppReadSerializer,
    MicroAppSerializer,
    RegionSerializer,
    RetireSerializer,
    ReviewDecisionSerializer,
    ReviewSerializer,
    SubmitConflictSerializer,
    TeamSerializer,
)
from catalog.api.team_chat_serializers import TeamChatSerializer
from catalog.filters import MicroAppFilterSet, ReviewFilterSet
from catalog.models import MicroApp, Region, Review, Team


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Teams own and pay for apps. The platform team curates them; everyone reads them."""

    queryset = Team.objects.select_related("lead").prefetch_related("members")
    serializer_class = TeamSerializer
    permission_classes = [IsPlatformOrReadOnly]
    lookup_field = "slug"
    ordering_fields = ["name", "slug", "cost_center"]
    ordering = ["name"]
    filterset_fields = ["cost_center"]

    def perform_update(self, serializer) -> None:
        """A ``lead`` write goes through the service the team page uses, audited there."""
        with transaction.atomic():
            given = "lead" in serializer.validated_data
            lead = serializer.validated_data.pop("lead", None)
            team = serializer.save()
            if given:
                services.team_set_lead(team=team, lead=lead, actor=self.request.user)

    def get_permissions(self):
        if self.action == "chat":
            return [TeamChatPermission()]
        return super().get_permissions()

    @extend_schema(request=TeamChatSerializer, responses=TeamChatSerializer)
    @action(detail=True, methods=["patch"])
    def chat(self, request, slug=None):
        """Set the team's Slack channel and Teams webhook (its lead and the platform team).
        The webhook URL is never answered back, only whether one is set and its host."""
        from messaging.team_chat import set_team_chat

        team = self.get_object()
        serializer = TeamChatSerializer(team, data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        set_team_chat(
            team=team,
            slack_channel=data.get("slack_channel", team.slack_channel),
            teams_webhook_url=data.get("teams_webhook_url", team.teams_webhook_url),
            actor=request.user,
        )
        return Response(TeamChatSerializer(team).data)


class RegionViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Deployment regions and their jurisdictions."""

    queryset = Region.objects.all()
    serializer_class = RegionSerializer
    permission_classes = [IsPlatformOrReadOnly]
    lookup_field = "code"
    ordering_fields = ["code", "name", "jurisdiction"]
    ordering = ["code"]
    filterset_fields = ["jurisdiction", "sovereign", "pci"]


@extend_schema_view(
    list=extend_schema(parameters=fieldset_parameters(MicroAppReadSerializer)),
    retrieve=extend_schema(parameters=fieldset_parameters(MicroAppReadSerializer)),
)
class MicroAppViewSet(
    FieldsetViewMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The app registry. Apps are never deleted: ``retire`` takes one out of the fleet."""

    serializer_class = MicroAppSerializer
    permission_classes = [AppActionPermission]
    app_actions = {
        "update": "edit",
        "partial_update": "edit",
        "retire": "retire",
        "submit": "submit",
    }
    filterset_class = MicroAppFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"
    ordering_fields = [
        "name",
        "slug",
        "state",
        "expires_at",
        "last_seen_at",
        "created_at",
        "updated_at",
        "team__name",
        "criticality",
        "environment",
    ]
    ordering = ["name"]

    def get_queryset(self):
        apps = MicroApp.objects.visible_to(self.request.user)
        if self.action == "impact":
            return apps
        if self.action in self.fieldset_actions:
            # Only what the answer shows is read.
            return apps.for_api(self.shown_fields or MicroAppReadSerializer.Meta.fields)
        return apps.for_list()

    def get_serializer_class(self):
        if self.action in self.fieldset_actions:
            return MicroAppReadSerializer
        return super().get_serializer_class()

    def filter_queryset(self, queryset):
        # List filters (which hide retired apps by default) must not hide an app addressed
        # by its slug: a retired app's page and history stay reachable.
        if self.detail:
            return queryset
        return super().filter_queryset(queryset)

    @extend_schema(request=MicroAppSerializer, responses={201: MicroAppCreatedSerializer})
    def create(self, request, *args, **kwargs):
        """Register an app (in ``draft``). The answer carries the app's telemetry ingestion
        secret: store it now, it is not shown again."""
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        app = services.app_register(actor=request.user, data=serializer.validated_data)
        data = MicroAppCreatedSerializer(app, context=self.get_serializer_context()).data
        data["ingestion_secret"] = app.ingestion_secret
        return Response(data, status=201, headers={"Cache-Control": "no-store"})

    def perform_update(self, serializer):
        serializer.instance = services.app_update(
            app=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    @extend_schema(
        request=RetireSerializer,
        responses={200: MicroAppSerializer, 409: RetireConflictSerializer},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request, slug=None):
        """Retire the app: it leaves the default catalog view and stops receiving telemetry,
        and keeps all its data and history. While live apps call it, `confirm_dependents`
        must list each of them by slug; otherwise the answer is a 409 with
        `code: dependents_not_confirmed` and the `dependents` to confirm."""
        app = self.get_object()
        body = RetireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        app = services.app_retire(
            app=app,
            actor=request.user,
            reason=body.validated_data["reason"],
            confirm_dependents=body.validated_data.get("confirm_dependents", []),
        )
        return Response(self.get_serializer(app).data)

    @extend_schema(
        request=None,
        responses={200: MicroAppSerializer, 409: SubmitConflictSerializer},
        description="Submit a draft through the go-live gate: low-risk apps go live, high-risk "
        "apps go to review (due in 48 h). A refused gate answers 409 with `code: gate_failed` "
        "and the checklist; an app that is not a draft answers 409 with only `detail` and "
        "`code: invalid_transition`.",
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, slug=None):
        app = self.get_object()
        try:
            app = services.app_submit(app=app, actor=request.user)
        except gate.GateFailed as failed:
            body = {"detail": failed.messages[0], "code": transition_code(failed)}
            body.update(failed.result.as_dict())
            return Response(body, status=status.HTTP_409_CONFLICT)
        return Response(self.get_serializer(app).data)

    @extend_schema(responses=GateSerializer)
    @action(detail=True, methods=["get"], url_path="gate")
    def gate_checklist(self, request, slug=None):
        """The go-live checklist as it stands now (what a submit would check)."""
        return Response(gate.check(self.get_object()).as_dict())

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "depth",
                # Empty means "not given", as in every list filter.
                accepting_empty({"type": "integer", "minimum": 1}),
                description="Follow at most this many hops (default and most: "
                "APPKEEPER_IMPACT_MAX_DEPTH).",
            )
        ],
        responses=ImpactSerializer,
    )
    @action(detail=True, methods=["get"])
    def impact(self, request, slug=None):
        """The blast radius: every live app that would break if this one went away or broke,
        nearest first, with its owner and team, the app it goes through, and (for direct
        dependents) the operations it declared it calls. ``depth`` limits the hops."""
        app = self.get_object()
        query = ImpactQuerySerializer(
            data=request.query_params, context={"max_depth": impact.max_depth()}
        )
        query.is_valid(raise_exception=True)
        depth = query.validated_data.get("depth", impact.max_depth())
        found = impact.dependents(app, depth=depth)
        return Response(
            {
                "app": app.slug,
                "depth": depth,
                "count": len(found),
                "direct": sum(1 for d in found if d.depth == 1),
                "dependents": [d.as_dict() for d in found],
            }
        )


class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Platform reviews of high-risk apps. The platform team sees all; owners their apps'."""

    serializer_class = ReviewSerializer
    permission_classes = [AppActionPermission]
    app_actions = {"decide": "decide_review"}
    filterset_class = ReviewFilterSet
    ordering_fields = ["due_at", "requested_at", "decided_at"]
    ordering = ["due_at", "pk"]

    def get_queryset(self):
        return Review.objects.visible_to(self.request.user).for_list()

    @extend_schema(request=ReviewDecisionSerializer, responses={200: ReviewSerializer})
    @action(detail=True, methods=["post"])
    def decide(self, request, pk=None):
        """Approve (app goes live), request changes (back to draft) or reject (retired).
        Platform team only, never on an app the reviewer answers for; a second decision
        answers 409 with ``code: already_decided``."""
        review = self.get_object()
        body = ReviewDecisionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        review = services.review_decide(review=review, actor=request.user, **body.validated_data)
        review = self.get_queryset().get(pk=review.pk)
        return Response(self.get_serializer(review).data)


class PolicyViewSet(viewsets.ViewSet):
    """Policy-as-code: the rules (``catalog/policies.py``) and a dry-run evaluator for CI."""

    @extend_schema(responses=PolicyRuleSerializer(many=True))
    def list(self, request):
        rules = [
            {"id": r.id, "description": r.description, "severity": r.severity}
            for r in policies.RULES
        ]
        return Response(PolicyRuleSerializer(rules, many=True).data)

    @extend_schema(request=PolicyEvaluateSerializer, responses=PolicyEvaluationSerializer)
    @action(detail=False, methods=["post"])
    def evaluate(self, request):
        """Evaluate every rule against an app payload, or an existing app (``app``) with
        proposed ``changes``; nothing is written."""
        body = PolicyEvaluateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        slug = data.pop("app", None)
        app = None
        if slug is not None:
            app = MicroApp.objects.visible_to(request.user).for_list().filter(slug=slug).first()
            if app is None:
                raise NotFound("No such app.")
            facts = policies.AppFacts.from_app(app).with_changes(data.get("changes", {}))
        else:
            # Like a registration: the owner defaults to the caller.
            data.setdefault("owner", request.user)
            facts = policies.AppFacts().with_changes(data)
        candidate = data.get("contract")
        if candidate is not None:
            facts = self._with_contract(facts, candidate, app, request.user)
        findings = policies.evaluate(facts)
        result = {
            "app": app.slug if app is not None else (facts.slug or None),
            "passed": not any(f.blocks for f in findings),
            "findings": [f.as_dict() for f in findings],
        }
        return Response(PolicyEvaluationSerializer(result).data)

    @staticmethod
    def _with_contract(facts, candidate: dict, app, user):
        touched = candidate.get("touched_dependents")
        if touched is None:
            touched = len(impact.direct_dependents(app)) if app is not None else 0
        effective_at = candidate.get("effective_at")
        return dataclasses.replace(
            facts,
            contract_breaking_changes=candidate["breaking_changes"],
            contract_touched_dependents=touched,
            contract_notice=effective_at - timezone.now() if effective_at else None,
            contract_override=candidate.get("override", False) and permissions.is_platform(user),
        )
