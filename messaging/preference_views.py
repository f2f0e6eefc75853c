"""The preferences page (``/me/notifications/settings/``) and its API
(``/api/v1/me/notification-preferences/``): a person's own preferences only."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from messaging.models import Cadence, PersonalChannel, Topic
from messaging.preference_forms import PreferencesForm
from messaging.preferences import (
    channels,
    effective_time_zone,
    preferences_of,
    save_preferences,
    time_zone_names,
    time_zone_of,
)
from messaging.routing import slack_enabled


@login_required
def notification_settings(request):
    form = PreferencesForm(
        request.POST or None,
        choices=preferences_of(request.user),
        default_zone=settings.TIME_ZONE,
        initial={"time_zone": time_zone_of(request.user)},
    )
    if request.method == "POST" and form.is_valid():
        save_preferences(
            request.user, cadences=form.cadences(), time_zone=form.cleaned_data["time_zone"]
        )
        messages.success(request, "Notification settings saved.")
        return redirect("notification-settings")
    return render(
        request,
        "messaging/notification_settings.html",
        {
            "form": form,
            "channels": channels(),
            "urgent_days": settings.APPKEEPER_DIGEST_URGENT_DAYS,
            "digest_hour": settings.APPKEEPER_DIGEST_HOUR,
        },
        status=400 if form.errors else 200,
    )


class PreferenceSerializer(serializers.Serializer):
    topic = serializers.ChoiceField(choices=Topic.choices)
    channel = serializers.ChoiceField(choices=PersonalChannel.choices)
    cadence = serializers.ChoiceField(choices=Cadence.choices)

    def validate_channel(self, value: str) -> str:
        if value == PersonalChannel.SLACK and not slack_enabled():
            raise serializers.ValidationError("Slack is not configured on this installation.")
        return value


class PreferencesSerializer(serializers.Serializer):
    time_zone = serializers.CharField(
        max_length=64,
        allow_blank=True,
        required=False,
        help_text="An IANA time zone name; empty for the installation's.",
    )
    effective_time_zone = serializers.CharField(read_only=True)
    slack_enabled = serializers.BooleanField(read_only=True)
    urgent_days = serializers.IntegerField(
        read_only=True,
        help_text="Expiry reminders this close to expiry go out immediately whatever is chosen.",
    )
    preferences = PreferenceSerializer(many=True)

    def validate_time_zone(self, value: str) -> str:
        if value and value not in time_zone_names():
            raise serializers.ValidationError(f"{value!r} is not a known IANA time zone.")
        return value

    def validate_preferences(self, rows: list[dict]) -> list[dict]:
        keys = [(row["topic"], row["channel"]) for row in rows]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError("Each topic and channel may appear once.")
        return rows


def answer(user) -> dict:
    zone = time_zone_of(user)
    return {
        "time_zone": zone,
        "effective_time_zone": effective_time_zone(zone),
        "slack_enabled": slack_enabled(),
        "urgent_days": settings.APPKEEPER_DIGEST_URGENT_DAYS,
        "preferences": [
            {"topic": c.topic.value, "channel": c.channel.value, "cadence": c.cadence}
            for c in preferences_of(user)
        ],
    }


class NotificationPreferencesView(APIView):
    """The caller's own notification preferences: every topic on every channel offered."""

    @extend_schema(
        responses={200: PreferencesSerializer}, operation_id="me_notification_preferences"
    )
    def get(self, request):
        return Response(answer(request.user))

    @extend_schema(
        request=PreferencesSerializer,
        responses={
            200: PreferencesSerializer,
            400: OpenApiResponse(
                description="An unknown topic, channel, cadence or time zone, a topic and "
                "channel given twice, or Slack while Slack is not configured; nothing saved."
            ),
        },
        operation_id="me_notification_preferences_update",
    )
    def put(self, request):
        """Set the cadence of the topics and channels listed (those not listed keep
        theirs) and, if given, the time zone; all or nothing."""
        body = PreferencesSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        save_preferences(
            request.user,
            cadences={
                (row["topic"], row["channel"]): row["cadence"]
                for row in body.validated_data["preferences"]
            },
            time_zone=body.validated_data.get("time_zone"),
        )
        return Response(answer(request.user))
