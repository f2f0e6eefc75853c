"""Daily and weekly digests: one message per person and channel carrying the notices held
for it (``messaging.routing``) and, weekly, what needs the person now.

A digest is itself an outbox row (kind ``digest_daily`` or ``digest_weekly``) with a dedupe
key per person, channel and local date, so a rerun sends nothing twice; the held rows it
carries point at it (``digest``) and are marked sent in the same transaction.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Value, When
from django.urls import reverse
from django.utils import timezone

from catalog.choices import NotificationChannel
from catalog.models import Notification
from messaging.digest_facts import Facts, live_facts
from messaging.models import Cadence, NotificationPreference, PersonalChannel, Topic
from messaging.routing import time_zones
from messaging.topics import topic_of

DAILY, WEEKLY = "digest_daily", "digest_weekly"

# A Slack direct message is a SLACK row with a recipient.
CHANNEL_OF: dict[str, str] = {
    PersonalChannel.EMAIL: NotificationChannel.EMAIL,
    PersonalChannel.SLACK: NotificationChannel.SLACK,
}


@dataclass
class Pending:
    user_id: int
    channel: str
    weekly: bool = False
    held: list[Notification] = field(default_factory=list)


def is_weekly_moment(tz: ZoneInfo, now: datetime) -> bool:
    local = now.astimezone(tz)
    return local.weekday() == 0 and local.hour == settings.APPKEEPER_DIGEST_HOUR


def send_digests(*, now: datetime | None = None) -> int:
    """Queue the digests due at ``now``; returns how many were queued.

    Runs hourly: the held rows due (their ``held_until`` is the person's digest moment,
    so a late run still finds them), and the people with a weekly preference whose local
    time is Monday at the digest hour. Queries are constant per run whatever the number of
    people: the held rows (locked), the weekly preferences, the time zones, the live facts
    (``messaging.digest_facts``), the digests queued before, one insert, one read-back of
    the new digests' ids and one update of the rows they carry.
    """
    now = now or timezone.now()
    with transaction.atomic():
        held = list(
            Notification.objects.filter(
                held_until__lte=now,
                sent_at__isnull=True,
                digest__isnull=True,
                recipient__isnull=False,
            )
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("created_at", "pk")
        )
        weekly_pairs = set(
            NotificationPreference.objects.filter(
                cadence=Cadence.WEEKLY, user__is_active=True
            ).values_list("user_id", "channel")
        )
        if not (held or weekly_pairs):
            return 0
        zones = time_zones({n.recipient_id for n in held} | {u for u, _ in weekly_pairs})
        pending: dict[tuple[int, str], Pending] = {}
        for user_id, channel in weekly_pairs:
            if channel in CHANNEL_OF and is_weekly_moment(zones[user_id], now):
                pending[(user_id, CHANNEL_OF[channel])] = Pending(
                    user_id, CHANNEL_OF[channel], True
                )
        for note in held:
            key = (note.recipient_id, note.channel)
            pending.setdefault(key, Pending(note.recipient_id, note.channel)).held.append(note)
        facts = live_facts({p.user_id for p in pending.values() if p.weekly}, now=now)
        digests = {}
        for key, item in pending.items():
            row = digest_row(item, facts, zones[item.user_id], now)
            if row is not None:
                digests[key] = row
        if not digests:
            return 0
        by_key = {row.dedupe_key: key for key, row in digests.items()}
        queued_before = set(
            Notification.objects.filter(dedupe_key__in=by_key).values_list("dedupe_key", flat=True)
        )
        fresh = [row for row in digests.values() if row.dedupe_key not in queued_before]
        Notification.objects.bulk_create(fresh, ignore_conflicts=True)
        ids = dict(
            Notification.objects.filter(dedupe_key__in=[r.dedupe_key for r in fresh]).values_list(
                "dedupe_key", "pk"
            )
        )
        carried = {
            note.pk: digest_pk
            for dedupe_key, digest_pk in ids.items()
            for note in pending[by_key[dedupe_key]].held
        }
        if carried:
            Notification.objects.filter(pk__in=list(carried)).update(
                digest_id=Case(*(When(pk=pk, then=Value(d)) for pk, d in carried.items())),
                sent_at=now,
            )
    return len(ids)


def digest_row(item: Pending, facts: Facts, tz: ZoneInfo, now: datetime) -> Notification | None:
    """The unsaved digest for one person and channel; None when it would be empty."""
    sections: list[str] = []
    if item.weekly:
        sections += facts.sections_for(item.user_id, tz)
    if item.held:
        sections.append(held_section(item.held))
    if not sections:
        return None
    kind = WEEKLY if item.weekly else DAILY
    local_day = now.astimezone(tz).date()
    what = "weekly" if item.weekly else "daily"
    count = len(item.held)
    subject = f"Your {what} Appkeeper digest"
    if count:
        subject += f": {count} notice{'s' if count != 1 else ''}"
    return Notification(
        recipient_id=item.user_id,
        kind=kind,
        channel=item.channel,
        subject=subject,
        body="\n\n".join(sections),
        link=reverse("lifecycle:notifications"),
        dedupe_key=f"digest:{item.user_id}:{item.channel}:{local_day:%Y-%m-%d}",
        created_at=now,
    )


def held_section(notes: list[Notification]) -> str:
    """The held notices grouped by topic, in the order topics are offered."""
    grouped: dict[str, list[Notification]] = defaultdict(list)
    for note in notes:
        grouped[topic_of(note.kind)].append(note)
    lines = ["Since your last digest:"]
    for topic in Topic:
        for note in grouped.get(topic, []):
            if note is grouped[topic][0]:
                lines.append(f"\n{topic.label}")
            line = f"- {note.subject}"
            if note.link:
                line += f" ({absolute(note.link)})"
            lines.append(line)
    return "\n".join(lines)


def absolute(link: str) -> str:
    from catalog.notifications import absolute as absolute_link

    return absolute_link(link)
