"""Backstage sync sources over the API: the platform team's, like the page."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response

from catalog import permissions
from catalog.backstage.source_services import (
    MIN_INTERVAL,
    source_save,
    source_sync_now,
    url_error,
)
from catalog.models import BackstageSource


class ManagesBackstageSources(BasePermission):
    message = "Only the platform team manages Backstage sources."

    def has_permission(self, request, view) -> bool:
        return permissions.can_manage_backstage_sources(request.user)


class BackstageSourceSerializer(serializers.ModelSerializer):
    # Write-only: read back only as whether one is set.
    token = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    token_set = serializers.SerializerMethodField()
    interval_minutes = serializers.IntegerField(
        min_value=MIN_INTERVAL, max_value=7 * 24 * 60, required=False
    )
    retired = serializers.BooleanField(required=False, write_only=True)

    class Meta:
        model = BackstageSource
        fields = [
            "id",
            "name",
            "url",
            "token",
            "token_set",
            "enabled",
            "interval_minutes",
            "retired",
            "retired_at",
            "last_checked_at",
            "last_status",
            "last_error",
            "last_files",
            "last_entities",
            "last_job",
            "created_at",
        ]
        read_only_fields = [
            "retired_at",
            "last_checked_at",
            "last_status",
            "last_error",
            "last_files",
            "last_entities",
            "last_job",
            "created_at",
        ]
        extra_kwargs = {"interval_minutes": {"required": False}}

    def get_token_set(self, obj: BackstageSource) -> bool:
        return bool(obj.token)

    def validate_url(self, value: str) -> str:
        if error := url_error(value):
            raise serializers.ValidationError(error)
        return value


class BackstageSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Catalog files Appkeeper pulls from Backstage on a schedule. Sources are never
    deleted: PATCH ``{"retired": true}`` retires one."""

    serializer_class = BackstageSourceSerializer
    permission_classes = [ManagesBackstageSources]
    http_method_names = ["get", "post", "patch", "head", "options"]
    queryset = BackstageSource.objects.all()

    def perform_create(self, serializer) -> None:
        serializer.instance = self.save(dict(serializer.validated_data), None)

    def perform_update(self, serializer) -> None:
        values = dict(serializer.validated_data)
        retire = values.pop("retired", False)
        source = self.save(values, serializer.instance)
        if retire:
            from catalog.backstage.source_services import source_retire

            source = source_retire(actor=self.request.user, source=source)
        serializer.instance = source

    def save(self, values: dict, source: BackstageSource | None) -> BackstageSource:
        values.pop("retired", None)
        try:
            return source_save(actor=self.request.user, values=values, source=source)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None

    @extend_schema(
        request=None,
        responses={202: OpenApiResponse(description="Sync queued"), 400: None},
    )
    @action(detail=True, methods=["post"])
    def sync(self, request, pk=None):
        source = self.get_object()
        try:
            source_sync_now(actor=request.user, source=source)
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response({"detail": "Sync queued."}, status=status.HTTP_202_ACCEPTED)
