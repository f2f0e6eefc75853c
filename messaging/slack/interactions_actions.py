"""The Slack buttons and modal submissions, each through the web UI's service and its
``catalog.permissions`` check, as the person who clicked.

A button returns the text to tell that person (ephemerally), or None when it opened a
modal; a submission returns Slack's ``response_action``: the errors to show in the modal,
or the confirmation that replaces it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import ValidationError
from django.urls import reverse
from slack_sdk.errors import SlackApiError, SlackClientError

from catalog import permissions
from catalog import services as catalog_services
from catalog.choices import ReviewDecision
from catalog.models import MicroApp, Review
from catalog.notifications import absolute
from catalog.retirement import DependentsNotConfirmed
from lifecycle import services as lifecycle_services
from lifecycle.choices import SunsetResponse
from lifecycle.models import SunsetCase
from lifecycle.selectors import renewal_refusal
from lifecycle.services import JUSTIFICATION_MIN_CHARS
from messaging.slack import interactions_modals as modals
from messaging.slack.client import web_client

JUSTIFICATION = "justification"
COMMENT = "comment"
GONE = "Not found: it was removed, or you cannot see it."


def errors(block_id: str, message: str) -> dict[str, Any]:
    return {"response_action": "errors", "errors": {block_id: message}}


def field_of(view: dict[str, Any]) -> str:
    """The block an error about the whole modal is shown under: its one input."""
    return COMMENT if view.get("callback_id") == "review_request_changes" else JUSTIFICATION


def _done(title: str, text: str) -> dict[str, Any]:
    return {"response_action": "update", "view": modals.done(title, text)}


def _reason(exc: ValidationError, field: str) -> str:
    """The refusal as the web form shows it: the field's own messages, else all of them."""
    if hasattr(exc, "error_dict"):
        by_field = exc.message_dict
        return " ".join(by_field.get(field) or [m for ms in by_field.values() for m in ms])
    return " ".join(exc.messages)


def _day(moment) -> str:
    return f"{moment.day} {moment:%b %Y}"


def _open(trigger_id: str, view: dict[str, Any], fallback: str) -> str | None:
    """Open the modal; if Slack will not (the trigger expired after three seconds, the
    token was revoked), say where the same form is on the web."""
    try:
        web_client().views_open(trigger_id=trigger_id, view=view)
    except (SlackApiError, SlackClientError, OSError):
        return f"Slack could not open the form. Do it on Appkeeper instead: <{fallback}>"
    return None


# --- lookups (what the user cannot see does not exist for them, as on the web) ----------------


def _app(user, slug: str) -> MicroApp | None:
    return (
        MicroApp.objects.visible_to(user).select_related("owner", "team").filter(slug=slug).first()
    )


def _pk(value: str) -> int | None:
    return int(value) if value.isdigit() and len(value) < 19 else None


def _case(user, value: str) -> SunsetCase | None:
    pk = _pk(value)
    if pk is None:
        return None
    return (
        SunsetCase.objects.visible_to(user).select_related("app", "app__team").filter(pk=pk).first()
    )


def _review(user, value: str) -> Review | None:
    pk = _pk(value)
    if pk is None:
        return None
    return Review.objects.visible_to(user).select_related("app", "app__team").filter(pk=pk).first()


# --- renew ------------------------------------------------------------------------------------


def renew(*, user, value: str, trigger_id: str) -> str | None:
    app = _app(user, value)
    if app is None:
        return GONE
    if not permissions.can_renew(user, app):
        return permissions.DENIED["renew"]
    refusal = renewal_refusal(app=app)
    if refusal:
        return refusal
    expiry = f" It expires on {_day(app.expires_at)}." if app.expires_at else ""
    view = modals.text_modal(
        callback_id="renew",
        private_metadata=app.slug,
        title=f"Renew {app.name}",
        intro=f"*{app.name}*{expiry} Why is it still needed?",
        block_id=JUSTIFICATION,
        label="Justification",
        submit="Renew",
        min_length=JUSTIFICATION_MIN_CHARS,
    )
    return _open(trigger_id, view, absolute(reverse("lifecycle:app-renew", args=[app.slug])))


def renew_submitted(*, user, view: dict[str, Any]) -> dict[str, Any]:
    app = _app(user, str(view.get("private_metadata", "")))
    if app is None:
        return errors(JUSTIFICATION, GONE)
    if not permissions.can_renew(user, app):
        return errors(JUSTIFICATION, permissions.DENIED["renew"])
    try:
        renewal = lifecycle_services.app_renew(
            app=app, actor=user, justification=modals.submitted_value(view, JUSTIFICATION)
        )
    except ValidationError as exc:
        return errors(JUSTIFICATION, _reason(exc, JUSTIFICATION))
    return _done("Renewed", f"{app.name} is renewed until {_day(renewal.expires_at)}. Thank you.")


# --- sunset cases -----------------------------------------------------------------------------


def sunset_accept(*, user, value: str, trigger_id: str) -> str | None:
    case = _case(user, value)
    if case is None:
        return GONE
    if not permissions.can_respond_sunset(user, case.app):
        return permissions.DENIED["respond_sunset"]
    try:
        case = lifecycle_services.sunset_respond(
            case=case, actor=user, response=SunsetResponse.ACCEPT
        )
    except DependentsNotConfirmed as exc:
        page = absolute(reverse("lifecycle:sunset-respond", args=[case.pk]))
        return f"{exc.messages[0]} Confirm each of them on the case's page: <{page}>"
    except ValidationError as exc:
        return _reason(exc, "response")
    return f"{case.app.name} is retired. Its history is kept."


def sunset_contest(*, user, value: str, trigger_id: str) -> str | None:
    case = _case(user, value)
    if case is None:
        return GONE
    if not permissions.can_respond_sunset(user, case.app):
        return permissions.DENIED["respond_sunset"]
    view = modals.text_modal(
        callback_id="sunset_contest",
        private_metadata=str(case.pk),
        title="Contest the sunset",
        intro=f"*{case.app.name}*: why must it stay? The platform team decides.",
        block_id=JUSTIFICATION,
        label="Justification",
        submit="Contest",
        min_length=JUSTIFICATION_MIN_CHARS,
    )
    return _open(trigger_id, view, absolute(reverse("lifecycle:sunset-respond", args=[case.pk])))


def sunset_contest_submitted(*, user, view: dict[str, Any]) -> dict[str, Any]:
    case = _case(user, str(view.get("private_metadata", "")))
    if case is None:
        return errors(JUSTIFICATION, GONE)
    if not permissions.can_respond_sunset(user, case.app):
        return errors(JUSTIFICATION, permissions.DENIED["respond_sunset"])
    try:
        lifecycle_services.sunset_respond(
            case=case,
            actor=user,
            response=SunsetResponse.CONTEST,
            justification=modals.submitted_value(view, JUSTIFICATION),
        )
    except ValidationError as exc:
        return errors(JUSTIFICATION, _reason(exc, JUSTIFICATION))
    return _done("Contested", "Your contest is with the platform team.")


# --- reviews ----------------------------------------------------------------------------------


def _decide(user, review: Review, decision: str, comment: str = "") -> str:
    """Decide as the review page does; the outcome or the refusal, in its words."""
    try:
        catalog_services.review_decide(
            review=review, actor=user, decision=decision, comment=comment
        )
    except catalog_services.ReviewAlreadyDecided:
        return "Someone decided this review already."
    except ValidationError as exc:
        raise _Refused(_reason(exc, COMMENT)) from exc
    return f"Review of {review.app.name}: {ReviewDecision(decision).label.lower()}."


class _Refused(Exception):
    pass


def review_approve(*, user, value: str, trigger_id: str) -> str | None:
    review = _review(user, value)
    if review is None:
        return GONE
    if not permissions.can_decide_review(user, review.app):
        return permissions.DENIED["decide_review"]
    try:
        return _decide(user, review, ReviewDecision.APPROVED)
    except _Refused as refused:
        page = absolute(reverse("review-detail", args=[review.pk]))
        return f"{refused} Decide it on the review's page: <{page}>"


def review_request_changes(*, user, value: str, trigger_id: str) -> str | None:
    review = _review(user, value)
    if review is None:
        return GONE
    if not permissions.can_decide_review(user, review.app):
        return permissions.DENIED["decide_review"]
    view = modals.text_modal(
        callback_id="review_request_changes",
        private_metadata=str(review.pk),
        title="Request changes",
        intro=f"*{review.app.name}*: what must the owners change?",
        block_id=COMMENT,
        label="Comment",
        submit="Send",
    )
    return _open(trigger_id, view, absolute(reverse("review-detail", args=[review.pk])))


def review_request_changes_submitted(*, user, view: dict[str, Any]) -> dict[str, Any]:
    review = _review(user, str(view.get("private_metadata", "")))
    if review is None:
        return errors(COMMENT, GONE)
    if not permissions.can_decide_review(user, review.app):
        return errors(COMMENT, permissions.DENIED["decide_review"])
    try:
        text = _decide(
            user, review, ReviewDecision.CHANGES_REQUESTED, modals.submitted_value(view, COMMENT)
        )
    except _Refused as refused:
        return errors(COMMENT, str(refused))
    return _done("Changes requested", text)


Button = Callable[..., str | None]
Submission = Callable[..., dict[str, Any]]

BUTTONS: dict[str, Button] = {
    "renew": renew,
    "sunset_accept": sunset_accept,
    "sunset_contest": sunset_contest,
    "review_approve": review_approve,
    "review_request_changes": review_request_changes,
}
SUBMISSIONS: dict[str, Submission] = {
    "renew": renew_submitted,
    "sunset_contest": sunset_contest_submitted,
    "review_request_changes": review_request_changes_submitted,
}
