"""``POST /api/v1/apps/transfer/``: move apps to another owner in bulk (platform team)."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import permissions, transfers
from catalog.api.schema import (
    StrictBooleanField,
    StrictCharField,
    StrictSlugField,
    StrictSlugRelatedField,
)
from catalog.models import Team


class CanTransferApps(BasePermission):
    message = "Only the platform team moves apps between owners in bulk."

    def has_permission(self, request, view) -> bool:
        return permissions.can_transfer_apps(request.user)


def _people():
    return get_user_model().objects.all()


class TransferSerializer(serializers.Serializer):
    from_owner = StrictSlugRelatedField(
        slug_field="username",
        queryset=_people(),
        required=False,
        help_text="Move every live app this person owns (by username; a leaver too).",
        error_messages={"does_not_exist": "No one is called “{value}”."},
    )
    team = StrictSlugRelatedField(
        slug_field="slug",
        queryset=Team.objects.all(),
        required=False,
        help_text="Move every live app of this team (by slug).",
        error_messages={"does_not_exist": "No team is called “{value}”."},
    )
    apps = serializers.ListField(
        child=StrictSlugField(max_length=80),
        required=False,
        min_length=1,
        max_length=1000,
        help_text="Move these apps (by slug); each must exist and not be retired.",
    )
    to = StrictSlugRelatedField(
        slug_field="username",
        queryset=_people(),
        help_text="The new owner (by username); must be an active account.",
        error_messages={"does_not_exist": "No one is called “{value}”."},
    )
    reason = StrictCharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why the apps move; recorded in each app's history. Required unless `dry_run`.",
    )
    dry_run = StrictBooleanField(
        required=False, default=False, help_text="List what would move, and write nothing."
    )


class TransferMoveSerializer(serializers.Serializer):
    slug = StrictCharField()
    name = StrictCharField()
    team = StrictCharField(help_text="The team's slug.")
    team_name = StrictCharField()
    # ``from`` is a Python keyword: the field is renamed in the answer.
    from_ = StrictCharField(
        allow_null=True,
        help_text="The owner's username before the move; null for a team-owned app.",
    )
    to = StrictCharField(help_text="The owner's username after the move.")
    orphaned = serializers.BooleanField(help_text="The owner had left and nobody took it over.")

    def get_fields(self):
        return {
            ("from" if name == "from_" else name): f for name, f in super().get_fields().items()
        }


class TransferResultSerializer(serializers.Serializer):
    dry_run = serializers.BooleanField()
    count = serializers.IntegerField(help_text="How many apps move (or would).")
    moved = TransferMoveSerializer(many=True)
    unchanged = TransferMoveSerializer(
        many=True, help_text="Selected apps the target already owns."
    )


def _drf_errors(exc: DjangoValidationError) -> ValidationError:
    errors = dict(exc.message_dict)
    if NON_FIELD_ERRORS in errors:
        errors["non_field_errors"] = errors.pop(NON_FIELD_ERRORS)
    return ValidationError(errors)


class TransferView(APIView):
    permission_classes = [CanTransferApps]

    @extend_schema(
        request=TransferSerializer,
        responses={
            200: TransferResultSerializer,
            400: OpenApiResponse(
                {"$ref": "#/components/schemas/ApiError"},
                description="Field errors: an unknown person, team or app, a retired app, a "
                "deactivated target, no selector or more than one (`non_field_errors`), or "
                "no reason for a real run.",
            ),
            403: OpenApiResponse(
                {"$ref": "#/components/schemas/ApiError"},
                description="Only the platform team moves apps in bulk.",
            ),
        },
        operation_id="apps_transfer",
    )
    def post(self, request):
        """Make `to` the owner of every live app of `from_owner`, of every live app of
        `team`, or of the `apps` listed: exactly one of the three. With `dry_run` the
        answer lists what would move and nothing is written; otherwise all move in one
        transaction, each with an audit event carrying `reason`, and the new owner, the
        previous owners and each team hear once. Apps `to` already owns are `unchanged`."""
        body = TransferSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        try:
            result = transfers.transfer(
                actor=request.user,
                to=data["to"],
                from_owner=data.get("from_owner"),
                team=data.get("team"),
                apps=data.get("apps"),
                reason=data.get("reason", ""),
                dry_run=data["dry_run"],
            )
        except DjangoValidationError as exc:
            raise _drf_errors(exc) from exc
        return Response(TransferResultSerializer(result.as_dict()).data)
