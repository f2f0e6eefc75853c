"""The Notification outbox: write a row now (in the caller's transaction), deliver later.

Writing to the outbox instead of sending inline means a rolled-back transaction sends
nothing, and the unique dedupe key means a job that runs twice notifies once.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from catalog.choices import PLATFORM_GROUP, NotificationChannel
from catalog.models import MicroApp, Notification


def notify(
    *,
    recipient,
    kind: str,
    subject: str,
    body: str,
    dedupe_key: str,
    app: MicroApp | None = None,
    link: str = "",
    channel: str = NotificationChannel.EMAIL,
) -> Notification | None:
    """Queue one message; returns None when the same dedupe key was queued before."""
    try:
        with transaction.atomic():
            return Notification.objects.create(
                recipient=recipient,
                app=app,
                kind=kind,
                subject=subject,
                body=body,
                dedupe_key=dedupe_key[:200],
                link=link,
                channel=channel,
            )
    except IntegrityError:
        return None


def notify_owners(
    *, app: MicroApp, kind: str, subject: str, body: str, dedupe_key: str, link: str = ""
) -> list[Notification]:
    """Tell the app's owner, and its team contact through the team webhook if configured."""
    sent = []
    note = notify(
        recipient=app.owner,
        app=app,
        kind=kind,
        subject=subject,
        body=body,
        dedupe_key=f"{dedupe_key}:owner",
        link=link,
    )
    if note:
        sent.append(note)
    if app.team.webhook_url:
        hook = notify(
            recipient=None,
            app=app,
            kind=kind,
            subject=subject,
            body=body,
            dedupe_key=f"{dedupe_key}:webhook",
            link=link,
            channel=NotificationChannel.WEBHOOK,
        )
        if hook:
            hook.team = app.team
            hook.save(update_fields=["team"])
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
    out = []
    for user in members:
        note = notify(
            recipient=user,
            app=app,
            kind=kind,
            subject=subject,
            body=body,
            dedupe_key=f"{dedupe_key}:{user.pk}",
            link=link,
        )
        if note:
            out.append(note)
    return out
