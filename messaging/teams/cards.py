"""Adaptive Cards for a team's Teams channel: the facts of one notice and links back into
Appkeeper. Teams only runs card actions through a bot, so every action is a link
(``Action.OpenUrl``) to the page where the person acts, signed in as themselves."""

from __future__ import annotations

from django.urls import reverse
from django.utils import timezone

from catalog.models import MicroApp, Notification, Review
from catalog.notifications import absolute

SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
VERSION = "1.5"
CARD_CONTENT_TYPE = "application/vnd.microsoft.card.adaptive"

# Which extra facts and links a notice carries, by the start of its kind.
EXPIRY_KINDS = ("expiry_reminder", "app_expired", "recertification_overdue", "app_renewed")
SUNSET_KINDS = ("sunset_", "dependency_sunset")
REVIEW_KINDS = ("review_",)


def _date(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d") if moment else "—"


def _days_left(moment) -> str:
    left = moment - timezone.now()
    if left.total_seconds() <= 0:
        return "none: past"
    # Whole days, as the reminders count them ("expires in 5 days" until the 5th day ends).
    return f"{left.days} day{'s' if left.days != 1 else ''}"


def open_sunset_case(app: MicroApp):
    from lifecycle.models import SunsetCase

    return SunsetCase.objects.filter(app=app, closed_at__isnull=True).order_by("-opened_at").first()


def open_review(app: MicroApp) -> Review | None:
    return Review.objects.filter(app=app, decision="").order_by("-requested_at").first()


def facts_and_links(note: Notification) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The card's facts and its links (title, absolute URL) for ``note``: one query for an
    owner, and one more for a sunset case or a review when the kind has one."""
    facts: list[tuple[str, str]] = []
    links: list[tuple[str, str]] = []
    app = note.app if note.app_id else None
    team = note.team if note.team_id else (app.team if app else None)
    if app is not None:
        facts.append(("App", f"{app.name} ({app.slug})"))
    if team is not None:
        facts.append(("Team", team.name))
    if app is not None:
        owner = app.owner
        if owner is not None:
            facts.append(("Owner", owner.get_full_name() or owner.get_username()))
        links.append(("Open app", absolute(app.get_absolute_url())))
    kind = note.kind
    if app is not None and kind.startswith(EXPIRY_KINDS):
        if app.expires_at:
            facts.append(("Expires", _date(app.expires_at)))
            facts.append(("Days left", _days_left(app.expires_at)))
        links.append(("Renew", absolute(reverse("lifecycle:app-renew", args=[app.slug]))))
    elif app is not None and kind.startswith(SUNSET_KINDS):
        case = open_sunset_case(app)
        if case is not None:
            facts.append(("Answer by", _date(case.grace_ends_at)))
            facts.append(("Days left", _days_left(case.grace_ends_at)))
            links.append(
                ("Answer the sunset case", absolute(app.get_absolute_url() + "#lifecycle"))
            )
    elif app is not None and kind.startswith(REVIEW_KINDS):
        review = open_review(app)
        if review is not None:
            facts.append(("Due", _date(review.due_at)))
            links.append(("Open the review", absolute(reverse("review-detail", args=[review.pk]))))
    if note.link:
        target = absolute(note.link)
        if all(url != target for _, url in links):
            links.append(("Details", target))
    return facts, links


def card(note: Notification) -> dict:
    """The Adaptive Card (schema version 1.5) for ``note``."""
    facts, links = facts_and_links(note)
    body: list[dict] = [
        {
            "type": "TextBlock",
            "text": note.subject,
            "weight": "Bolder",
            "size": "Medium",
            "wrap": True,
            "style": "heading",
        }
    ]
    if facts:
        body.append({"type": "FactSet", "facts": [{"title": t, "value": v} for t, v in facts]})
    if note.body:
        body.append({"type": "TextBlock", "text": note.body, "wrap": True})
    out = {
        "$schema": SCHEMA,
        "type": "AdaptiveCard",
        "version": VERSION,
        "body": body,
    }
    if links:
        out["actions"] = [{"type": "Action.OpenUrl", "title": t, "url": u} for t, u in links]
    return out


def workflows_payload(note: Notification) -> dict:
    """The body a Workflows "when a webhook request is received" flow expects: a message
    with the card as its one attachment."""
    return {
        "type": "message",
        "attachments": [
            {"contentType": CARD_CONTENT_TYPE, "contentUrl": None, "content": card(note)}
        ],
    }
