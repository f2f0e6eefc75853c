"""Reading and saving one person's notification preferences: the table of topic × channel
cadences the page and the API show, and their time zone (digests go out at the digest
hour there)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from zoneinfo import available_timezones

from django.conf import settings
from django.db import transaction

from messaging.models import Cadence, ChatProfile, NotificationPreference, PersonalChannel, Topic
from messaging.routing import slack_enabled


@cache
def time_zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


def channels() -> list[PersonalChannel]:
    """The channels a person chooses for: Slack only when this installation has Slack."""
    return [c for c in PersonalChannel if c != PersonalChannel.SLACK or slack_enabled()]


@dataclass(frozen=True)
class Choice:
    topic: Topic
    channel: PersonalChannel
    cadence: str

    @property
    def field_name(self) -> str:
        return f"{self.topic.value}__{self.channel.value}"

    @property
    def label(self) -> str:
        how = "by email" if self.channel == PersonalChannel.EMAIL else "in Slack"
        return f"{self.topic.label} {how}"


def preferences_of(user) -> list[Choice]:
    """Every topic on every offered channel, with the person's cadence or the default
    (immediately). One query."""
    saved = {
        (topic, channel): cadence
        for topic, channel, cadence in NotificationPreference.objects.filter(user=user).values_list(
            "topic", "channel", "cadence"
        )
    }
    return [
        Choice(topic, channel, saved.get((topic.value, channel.value), Cadence.IMMEDIATE))
        for topic in Topic
        for channel in channels()
    ]


def time_zone_of(user) -> str:
    """The name the person chose, "" when none (the installation's applies)."""
    profile = ChatProfile.objects.filter(user=user).values_list("time_zone", flat=True).first()
    return profile or ""


def effective_time_zone(name: str) -> str:
    return name if name in time_zone_names() else settings.TIME_ZONE


@transaction.atomic
def save_preferences(user, *, cadences: dict[tuple[str, str], str], time_zone: str | None) -> None:
    """Write the given ``{(topic, channel): cadence}`` and, unless None, the time zone, all
    or nothing. Values must be valid already (the form and the serializer check them)."""
    for (topic, channel), cadence in cadences.items():
        NotificationPreference.objects.update_or_create(
            user=user, topic=topic, channel=channel, defaults={"cadence": cadence}
        )
    if time_zone is not None:
        ChatProfile.objects.update_or_create(user=user, defaults={"time_zone": time_zone})
