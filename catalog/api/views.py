"""The registry's REST endpoints: thin viewsets over querysets and services."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import mixins, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from catalog import services
from catalog.api.permissions import CanManageApp, IsPlatformOrReadOnly
from catalog.api.serializers import (
    MicroAppSerializer,
    RegionSerializer,
    RetireSerializer,
    TeamSerializer,
)
from catalog.filters import MicroAppFilterSet
from catalog.models import MicroApp, Region, Team


class TeamViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Teams own and pay for apps. The platform team curates them; everyone reads them."""

    queryset = Team.objects.prefetch_related("members")
    serializer_class = TeamSerializer
    permission_classes = [IsPlatformOrReadOnly]
    lookup_field = "slug"
    ordering_fields = ["name", "slug", "cost_center"]
    ordering = ["name"]
    filterset_fields = ["cost_center"]


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


class MicroAppViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """The app registry. Apps are never deleted: ``retire`` takes one out of the fleet."""

    serializer_class = MicroAppSerializer
    permission_classes = [CanManageApp]
    filterset_class = MicroAppFilterSet
    lookup_field = "slug"
    lookup_value_regex = r"[a-z0-9]+(?:-[a-z0-9]+)*"
    ordering_fields = [
        "name", "slug", "state", "expires_at", "last_seen_at", "created_at", "updated_at",
        "team__name", "criticality", "environment",
    ]  # fmt: skip
    ordering = ["name"]

    def get_queryset(self):
        return MicroApp.objects.visible_to(self.request.user).for_list()

    def perform_create(self, serializer):
        serializer.instance = services.app_register(
            actor=self.request.user, data=serializer.validated_data
        )

    def perform_update(self, serializer):
        serializer.instance = services.app_update(
            app=serializer.instance, actor=self.request.user, data=serializer.validated_data
        )

    @extend_schema(request=RetireSerializer, responses=MicroAppSerializer)
    @action(detail=True, methods=["post"])
    def retire(self, request, slug=None):
        """Retire the app: it leaves the default catalog view and stops receiving telemetry,
        and keeps all its data and history."""
        app = self.get_object()
        body = RetireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        app = services.app_retire(app=app, actor=request.user, reason=body.validated_data["reason"])
        return Response(self.get_serializer(app).data)
