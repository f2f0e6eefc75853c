"""Each person's preferences applied to the notices queued for them.

A person's notice is one EMAIL row (with a ``recipient``); it is also their in-app notice
(``Notification.objects.unread_for``), so it is always written, whatever they chose:

- immediately: the row as it is;
- daily or weekly digest: the row is held (``held_until``) until their next digest
  moment, and ``messaging.digests`` carries it;
- off: the row is written already marked sent (``last_error`` says why), so it stays in
  the in-app list but nothing leaves.

When Slack is configured each such row gets a Slack copy (channel SLACK, same recipient,
dedupe key + ``:slack``), per the person's Slack preference, delivered as a direct
message. Expiry notices within ``APPKEEPER_DIGEST_URGENT_DAYS`` of the expiry are never
held and never switched off on email: that deadline is what the person must not miss.

Queries: one for the preferences of every recipient in the batch, one for their time
zones when a row is held; none when no row has a recipient.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone

from catalog.choices import NotificationChannel
from catalog.models import Notification
from messaging.models import Cadence, ChatProfile, NotificationPreference, PersonalChannel
from messaging.topics import URGENT_KINDS, topic_of

OFF_BY_PREFERENCE = "Off by preference: kept in the app, not sent."

Preferences = dict[tuple[int | None, str, str], str]


def slack_enabled() -> bool:
    return bool(settings.SLACK_BOT_TOKEN)


def zone(name: str) -> ZoneInfo:
    """The person's time zone; empty or unknown names fall back to the installation's."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(settings.TIME_ZONE)


def next_digest_at(cadence: str, tz: ZoneInfo, now: datetime) -> datetime:
    """The next digest moment strictly after ``now``: ``APPKEEPER_DIGEST_HOUR``:00 local
    time, on any day (daily) or a Monday (weekly). Built from the local date so a DST
    change between now and then keeps the wall-clock hour."""
    local = now.astimezone(tz)
    hour = settings.APPKEEPER_DIGEST_HOUR
    day = local.date()
    for _ in range(8):
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=tz)
        if moment > now and (cadence == Cadence.DAILY or day.weekday() == 0):
            return moment
        day += timedelta(days=1)
    raise AssertionError("a Monday falls within eight days")


def preferences_for(user_ids: Iterable[int | None]) -> Preferences:
    """``{(user, topic, channel): cadence}`` of the people, in one query."""
    rows = NotificationPreference.objects.filter(user_id__in=set(user_ids)).values_list(
        "user_id", "topic", "channel", "cadence"
    )
    return {(user, topic, channel): cadence for user, topic, channel, cadence in rows}


def time_zones(user_ids: Iterable[int | None]) -> dict[int | None, ZoneInfo]:
    """Each person's zone (the installation's when they set none), in one query."""
    ids = {pk for pk in user_ids if pk is not None}
    rows: dict[int, str] = dict(
        ChatProfile.objects.filter(user_id__in=ids).values_list("user_id", "time_zone")
    )
    return {pk: zone(rows.get(pk, "")) for pk in ids}


def is_urgent(note: Notification, now: datetime) -> bool:
    if note.kind not in URGENT_KINDS or note.app_id is None:
        return False
    # Jobs hand rows with their app loaded; a row without it is treated as urgent rather
    # than paying a query per row to find out.
    if not Notification._meta.get_field("app").is_cached(note):
        return True
    expires_at = note.app.expires_at if note.app is not None else None
    return expires_at is None or expires_at - now <= timedelta(
        days=settings.APPKEEPER_DIGEST_URGENT_DAYS
    )


def is_personal(note: Notification) -> bool:
    return note.recipient_id is not None and note.channel == NotificationChannel.EMAIL


def route(notes: Iterable[Notification], *, now: datetime | None = None) -> list[Notification]:
    """The unsaved rows to write for ``notes``: personal rows adjusted to their
    recipient's preferences and followed by their Slack copies; other rows as they are."""
    notes = list(notes)
    personal = [n for n in notes if is_personal(n)]
    if not personal:
        return notes
    now = now or timezone.now()
    prefs = preferences_for(n.recipient_id for n in personal)
    slack = slack_enabled()
    plans: dict[int, tuple[str, str | None]] = {}
    for note in personal:
        topic = topic_of(note.kind)
        email = prefs.get((note.recipient_id, topic, PersonalChannel.EMAIL), Cadence.IMMEDIATE)
        chat = (
            prefs.get((note.recipient_id, topic, PersonalChannel.SLACK), Cadence.IMMEDIATE)
            if slack
            else None
        )
        if is_urgent(note, now):
            email = Cadence.IMMEDIATE
            chat = Cadence.IMMEDIATE if chat not in (None, Cadence.OFF) else chat
        plans[id(note)] = (email, chat)
    held = {c for email, chat in plans.values() for c in (email, chat) if c in HELD_CADENCES}
    zones = time_zones(n.recipient_id for n in personal) if held else {}
    out: list[Notification] = []
    for note in notes:
        if id(note) not in plans:
            out.append(note)
            continue
        email, chat = plans[id(note)]
        apply_cadence(note, email, zones, now)
        out.append(note)
        if chat is not None and chat != Cadence.OFF:
            copy = slack_copy(note)
            apply_cadence(copy, chat, zones, now)
            out.append(copy)
    return out


HELD_CADENCES = (Cadence.DAILY, Cadence.WEEKLY)


def apply_cadence(
    note: Notification, cadence: str, zones: dict[int | None, ZoneInfo], now: datetime
) -> None:
    if cadence in HELD_CADENCES:
        note.held_until = next_digest_at(cadence, zones[note.recipient_id], now)
    elif cadence == Cadence.OFF:
        note.sent_at = now
        note.last_error = OFF_BY_PREFERENCE


def slack_copy(note: Notification) -> Notification:
    return Notification(
        recipient_id=note.recipient_id,
        team_id=note.team_id,
        app_id=note.app_id,
        kind=note.kind,
        channel=NotificationChannel.SLACK,
        subject=note.subject,
        body=note.body,
        link=note.link,
        dedupe_key=f"{note.dedupe_key[:194]}:slack",
        created_at=note.created_at,
    )
