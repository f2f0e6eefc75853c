"""The Notification outbox: write a row now (in the caller's transaction), deliver later
through core's sender (``core.outbox``).

Writing to the outbox instead of sending inline means a rolled-back transaction sends
nothing, and the unique dedupe key means a job that runs twice notifies once.
"""

from __future__ import annotations

import json
import logging
import time
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from catalog.choices import PLATFORM_GROUP, NotificationChannel
from catalog.models import MicroApp, Notification
from core.outbox import (
    LEASE,
    MAX_ATTEMPTS,
    Message,
    Result,
    Sender,
    WebhookPost,
    backoff,
    sign_webhook,
)

logger = logging.getLogger(__name__)


def notify(
    *,
    recipient=None,
    recipient_id: int | None = None,
    team=None,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    app: MicroApp | None = None,
    link: str = "",
    channel: str = NotificationChannel.EMAIL,
) -> Notification | None:
    """Queue one message to ``recipient`` (a user, or their id) or to ``team`` (its contact
    address or webhook); returns None when the dedupe key was queued before."""
    note = Notification(
        recipient_id=recipient.pk if recipient is not None else recipient_id,
        team=team,
        app=app,
        kind=kind,
        subject=subject,
        body=body,
        dedupe_key=dedupe_key[:200],
        link=link,
        channel=channel,
    )
    first, *copies = personal_routing([note])
    try:
        with transaction.atomic():
            first.save(force_insert=True)
    except IntegrityError:
        return None
    # Copies (a Slack direct message, a team channel's post) share the row's dedupe key
    # with a suffix: a copy queued before is skipped, as the row is.
    Notification.objects.bulk_create([*copies, *team_copies([first])], ignore_conflicts=True)
    return first


def personal_routing(notes: Iterable[Notification]) -> list[Notification]:
    """A person's rows as their preferences want them (held for a digest, off, a Slack
    copy added): ``messaging.routing``, which the chat services own."""
    from messaging.routing import route

    return route(notes)


def team_copies(notes: list[Notification]) -> list[Notification]:
    """A team's notices again in its chat channels (Slack, Microsoft Teams), where set."""
    from messaging.fanout import team_chat_copies

    return team_chat_copies(notes)


def co_owner_ids(app: MicroApp) -> list[int]:
    """The active co-owners of ``app`` to tell, by id: from the ``co_owner_ids_json``
    annotation the jobs read with their apps (``catalog.querysets.co_owner_ids_subquery``),
    else asked for (one query: single-app paths only)."""
    raw = getattr(app, "co_owner_ids_json", _NOT_READ)
    if raw is not _NOT_READ:
        return sorted(json.loads(raw or "[]"))
    return sorted(app.co_owners.filter(is_active=True).values_list("pk", flat=True))


_NOT_READ = object()


def notify_owners(
    *, app: MicroApp, kind: str, subject: str, body: str, dedupe_key: str, link: str = ""
) -> list[Notification]:
    """Tell the app's owner and co-owners, and its team through the team webhook if
    configured. A deactivated owner's copy is delivered to the team contact (see
    :func:`email_address`), so it is never lost; a team-owned app's goes to whoever
    :func:`team_owned_stand_in` names."""
    message = {"app": app, "kind": kind, "subject": subject, "body": body, "link": link}
    sent = []
    co_owners = co_owner_ids(app)
    if app.owner_id is not None:
        note = notify(recipient_id=app.owner_id, dedupe_key=f"{dedupe_key}:owner", **message)
        if note:
            sent.append(note)
    for pk in co_owners:
        if pk != app.owner_id:
            note = notify(recipient_id=pk, dedupe_key=f"{dedupe_key}:co:{pk}", **message)
            if note:
                sent.append(note)
    for stand_in in team_owned_stand_in(
        message, co_owners=co_owners, team_copy=False, dedupe_key=dedupe_key
    ):
        note = notify(
            recipient_id=stand_in.recipient_id,
            team=stand_in.team if stand_in.team_id else None,
            dedupe_key=stand_in.dedupe_key,
            **message,
        )
        if note:
            sent.append(note)
    if app.team.webhook_url:
        hook = notify(
            recipient=None,
            team=app.team,
            dedupe_key=f"{dedupe_key}:webhook",
            channel=NotificationChannel.WEBHOOK,
            **message,
        )
        if hook:
            sent.append(hook)
    return sent


def notify_platform_team(
    *,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    app: MicroApp | None = None,
    link: str = "",
) -> list[Notification]:
    members = get_user_model().objects.filter(groups__name=PLATFORM_GROUP, is_active=True)
    message = {"app": app, "kind": kind, "subject": subject, "body": body, "link": link}
    out = []
    for user in members:
        note = notify(recipient=user, dedupe_key=f"{dedupe_key}:{user.pk}", **message)
        if note:
            out.append(note)
    return out


# --- bulk writes (jobs) ------------------------------------------------------------------


def owner_notifications(
    *,
    app: MicroApp,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    link: str = "",
    team_contact: bool = True,
) -> list[Notification]:
    """Unsaved outbox rows for the app's owner, its active co-owners, its team's contact
    address and its team webhook, for jobs that queue many at once with :func:`queue`
    (``app.owner`` and ``app.team`` should be select_related, the co-owners read with the
    apps: ``co_owner_ids_subquery``). A deactivated owner's row is left out when the team
    contact gets its own copy, and delivered to the team contact otherwise."""
    common = {"app": app, "kind": kind, "subject": subject, "body": body, "link": link}
    team = app.team
    to_team = team_contact and bool(team.contact_email)
    notes = []
    co_owners = co_owner_ids(app)
    if app.owner_id is not None and (app.owner.is_active or not to_team):
        notes.append(
            Notification(recipient=app.owner, dedupe_key=f"{dedupe_key}:owner"[:200], **common)
        )
    notes += [
        Notification(recipient_id=pk, dedupe_key=f"{dedupe_key}:co:{pk}"[:200], **common)
        for pk in co_owners
        if pk != app.owner_id
    ]
    notes += team_owned_stand_in(
        common, co_owners=co_owners, team_copy=to_team, dedupe_key=dedupe_key
    )
    if to_team:
        notes.append(Notification(team=team, dedupe_key=f"{dedupe_key}:team"[:200], **common))
    if team.webhook_url:
        notes.append(
            Notification(
                team=team,
                channel=NotificationChannel.WEBHOOK,
                dedupe_key=f"{dedupe_key}:webhook"[:200],
                **common,
            )
        )
    return notes


def answering_person_id(app: MicroApp) -> int | None:
    """The one person a notice about ``app`` names: its owner, or for a team-owned app its
    team's lead (None when the team has none; ``app.team`` must be loaded)."""
    return app.owner_id if app.owner_id is not None else app.team.lead_id


def team_owned_stand_in(
    common: dict, *, co_owners: list[int], team_copy: bool, dedupe_key: str
) -> list[Notification]:
    """Unsaved rows (``common``: the message, with its ``app``) for who reads a team-owned
    app's (``owner`` None) owner notices: nobody extra when co-owners are told anyway; else
    the team lead, by id so a job pays no query for them (a deactivated lead's copy reaches
    the team contact, like any deactivated recipient's: :func:`stand_in_address`); else the
    team contact address, unless ``team_copy`` says the team gets its own copy already. An
    owned app needs none."""
    app = common["app"]
    if app.owner_id is not None or co_owners:
        return []
    team = app.team
    if team.lead_id is not None:
        key = f"{dedupe_key}:lead:{team.lead_id}"[:200]
        return [Notification(recipient_id=team.lead_id, dedupe_key=key, **common)]
    if team.contact_email and not team_copy:
        return [Notification(team=team, dedupe_key=f"{dedupe_key}:team"[:200], **common)]
    return []


def platform_team() -> list:
    """The active platform team members, for jobs building their notices in bulk."""
    return list(get_user_model().objects.filter(groups__name=PLATFORM_GROUP, is_active=True))


def platform_team_notifications(
    *,
    members: list,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    app: MicroApp | None = None,
    link: str = "",
) -> list[Notification]:
    """Unsaved outbox rows for each of ``members`` (:func:`platform_team`), with the same
    dedupe keys :func:`notify_platform_team` uses, for :func:`queue`."""
    common = {"app": app, "kind": kind, "subject": subject, "body": body, "link": link}
    return [
        Notification(recipient=user, dedupe_key=f"{dedupe_key}:{user.pk}"[:200], **common)
        for user in members
    ]


def queue(notes: Iterable[Notification]) -> None:
    """Insert outbox rows in bulk; a row whose dedupe key was queued before is skipped, so
    a job that runs twice, or on two workers at once, still notifies once.

    No ``batch_size``, on purpose: on PostgreSQL every row goes in one ``INSERT ... SELECT
    FROM UNNEST(...)`` (one array parameter per column, so no parameter limit), which keeps
    the daily jobs at a fixed number of queries however many apps are due (with
    500-row batches 100k apps took 125 queries). SQLite still splits the insert at its
    variable limit (Django's ``bulk_batch_size``), as it did before."""
    routed = personal_routing(notes)
    Notification.objects.bulk_create([*routed, *team_copies(routed)], ignore_conflicts=True)


# --- the drainer -------------------------------------------------------------------------

BATCH_SIZE = 50


@dataclass
class SendResult:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    gave_up: int = 0


def claim(*, limit: int = BATCH_SIZE) -> list[Notification]:
    """Lease up to ``limit`` due rows to this worker; two workers never get the same row.

    PostgreSQL: ``FOR UPDATE SKIP LOCKED`` hands concurrent workers disjoint rows, and the
    lease written in the same transaction hides them from later ones. SQLite: the write
    transaction is ``BEGIN IMMEDIATE`` (settings), which serialises the claims. Attempts
    are counted per row when its send starts (:func:`begin_attempt`), not here, so a row
    the worker never reaches does not use up one of its tries.
    """
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Notification.objects.pending(max_attempts=MAX_ATTEMPTS)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("recipient__chat_profile", "team", "app__team")
            .order_by("created_at", "pk")[:limit]
        )
        if rows:
            Notification.objects.filter(pk__in=[n.pk for n in rows]).update(
                next_attempt_at=now + LEASE
            )
    return rows


# Left on a row while its message is in flight: if the worker dies then, the row shows why
# it was tried without an outcome (and is sent again when its lease runs out).
INTERRUPTED = "Delivery interrupted: the worker stopped before recording the outcome."


def begin_attempt(note: Notification) -> None:
    """Count the attempt and renew the row's lease before its message leaves, so a message
    that kills the worker every time still runs out of attempts."""
    note.attempts += 1
    Notification.objects.filter(pk=note.pk).update(
        attempts=F("attempts") + 1,
        next_attempt_at=timezone.now() + LEASE,
        last_error=INTERRUPTED,
    )


def record(note: Notification, outcome: Result, result: SendResult) -> None:
    """Write one row's outcome (one UPDATE): delivered rows get ``sent_at``; failed rows
    ``last_error`` and the next attempt after the backoff, or are given up after
    ``MAX_ATTEMPTS`` or when undeliverable (they stay in the outbox, seen in the admin)."""
    now = timezone.now()
    rows = Notification.objects.filter(pk=note.pk)
    if outcome.delivered:
        rows.update(sent_at=now, next_attempt_at=None, last_error="")
        result.sent += 1
        return
    if not outcome.retry or note.attempts >= MAX_ATTEMPTS:
        note.attempts = max(note.attempts, MAX_ATTEMPTS)
        rows.update(last_error=outcome.error[:2000], next_attempt_at=None, attempts=note.attempts)
        result.gave_up += 1
    else:
        rows.update(last_error=outcome.error[:2000], next_attempt_at=now + backoff(note.attempts))
    result.failed += 1


def release(notes: list[Notification]) -> None:
    """Hand back rows this worker claimed but never tried, so the next run takes them at
    once instead of after the lease. Best effort: if the database is what failed, the
    lease running out releases them all the same."""
    if not notes:
        return
    try:
        Notification.objects.filter(pk__in=[n.pk for n in notes], sent_at__isnull=True).update(
            next_attempt_at=timezone.now()
        )
    except Exception:
        logger.warning("Could not release %d unsent notifications", len(notes), exc_info=True)


def absolute(link: str) -> str:
    if not link or link.startswith(("http://", "https://")):
        return link
    return settings.APPKEEPER_BASE_URL.rstrip("/") + "/" + link.lstrip("/")


def email_address(note: Notification) -> str:
    if note.recipient_id:
        if note.recipient.is_active:
            return note.recipient.email
        return stand_in_address(note)
    return note.team.contact_email if note.team_id else ""


def stand_in_address(note: Notification) -> str:
    """Where a deactivated person's message goes instead: the contact address of the app's
    team, or, about no app, of their own first team that has one ("" when none does). The
    matter still needs someone, and the team is who answers for it now."""
    if note.app_id:
        return note.app.team.contact_email
    team = note.recipient.appkeeper_teams.exclude(contact_email="").order_by("name").first()
    return team.contact_email if team else ""


UNDELIVERABLE_DEACTIVATED = (
    "The recipient is deactivated and no team contact address could stand in for them."
)


def email_message(note: Notification, address: str) -> EmailMessage:
    body = note.body
    if note.recipient_id and not note.recipient.is_active:
        who = note.recipient.get_full_name() or note.recipient.get_username()
        body = (
            f"This message was meant for {who}, whose account is deactivated; it comes to "
            f"the team contact instead.\n\n{body}"
        )
    if note.link:
        body = f"{body}\n\n{absolute(note.link)}"
    body += "\n\n-- \nAppkeeper, the micro-app catalog"
    return EmailMessage(subject=email_subject(note.subject), body=body, to=[address])


def email_subject(subject: str) -> str:
    """A one-line subject: a line break in a header makes the message unsendable, so any
    control or line-separator character (e.g. from a name saved before names were checked)
    becomes a space."""
    line = "".join(" " if unicodedata.category(c) in {"Cc", "Zl", "Zp"} else c for c in subject)
    return f"[Appkeeper] {' '.join(line.split())}"


def webhook_request(note: Notification) -> tuple[str, bytes, dict[str, str]]:
    """URL, body and headers of the signed POST for a webhook row. The message id stays
    the same on every retry so the receiver can deduplicate."""
    team = note.team
    payload = {
        "type": f"appkeeper.{note.kind}",
        "timestamp": note.created_at.isoformat(),
        "data": {
            "app": note.app.slug if note.app_id else None,
            "team": team.slug,
            "subject": note.subject,
            "body": note.body,
            "link": absolute(note.link),
        },
    }
    body = json.dumps(payload, separators=(",", ":")).encode()
    msg_id = f"msg_appkeeper_{note.pk}"
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Appkeeper-Webhooks/1",
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
    }
    if team.webhook_secret:
        headers["webhook-signature"] = sign_webhook(team.webhook_secret, msg_id, timestamp, body)
    return team.webhook_url, body, headers


def outbox_message(note: Notification) -> Message:
    """What core's sender delivers for one row."""
    if note.channel in (NotificationChannel.SLACK, NotificationChannel.TEAMS):
        from messaging.outbound import chat_message  # the chat services' own module

        return chat_message(note)
    if note.channel == NotificationChannel.WEBHOOK:
        if not (note.team_id and note.team.webhook_url):
            return Message(key=note.pk, undeliverable="The team has no webhook URL.")
        return Message(key=note.pk, webhook=WebhookPost(*webhook_request(note)))
    address = email_address(note)
    if not address:
        if note.recipient_id and not note.recipient.is_active:
            return Message(key=note.pk, undeliverable=UNDELIVERABLE_DEACTIVATED)
        return Message(key=note.pk, undeliverable="No email address for this recipient.")
    return Message(key=note.pk, email=email_message(note, address))


def send_pending(*, limit: int = BATCH_SIZE) -> SendResult:
    """Deliver one batch of the outbox, recording each row's outcome as it happens.

    1. Claim up to ``limit`` due rows (see :func:`claim`): they are leased to this worker.
    2. For each row in turn: count the attempt (:func:`begin_attempt`), send it through
       core's ``Sender`` (email rows through Django's email backend on one connection,
       console in development and SMTP by environment; webhook rows POSTed to the team's
       URL, signed in the Standard Webhooks scheme with the team's secret), and record the
       outcome (:func:`record`) before the next row is sent.
    3. If the worker is stopped mid-batch (shutdown, time limit, a crash that still unwinds
       the stack) the rows not yet tried are released for the next run; the one in flight
       keeps its lease and is sent again once it runs out. A worker killed outright
       releases nothing, and its untried rows wait for their lease. Either way each crash
       repeats at most one message (at-least-once delivery; the webhook id and the row stay
       the same, so receivers can deduplicate).

    Queries: 2 for the claim, then 2 per row (the attempt, the outcome).
    """
    rows = claim(limit=limit)
    result = SendResult(claimed=len(rows))
    started = 0
    try:
        with Sender() as sender:
            for note in rows:
                begin_attempt(note)
                started += 1
                record(note, attempt(sender, note), result)
    except BaseException:
        release(rows[started:])
        raise
    if result.failed:
        logger.warning("Notifications: %d of %d deliveries failed", result.failed, len(rows))
    return result


def attempt(sender: Sender, note: Notification) -> Result:
    """Build and send one row's message; a row whose message cannot even be built (a bug,
    bad data) fails like a refused delivery instead of stopping the whole outbox."""
    try:
        message = outbox_message(note)
    except Exception as exc:
        logger.exception("Could not build notification %s", note.pk)
        return Result(delivered=False, error=f"{exc.__class__.__name__}: {exc}")
    return sender.send(message)


# --- in-app --------------------------------------------------------------------------------


def mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all of them, or just ``ids``); returns how many."""
    rows = Notification.objects.unread_for(user)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
