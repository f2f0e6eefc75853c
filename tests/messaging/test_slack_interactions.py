"""Slack's interaction endpoint: requests signed the way Slack documents it (``v0``,
five-minute window, never the same signed request twice), the person behind a Slack id,
and each button acting through the web UI's services and refusals. Slack itself is a real
HTTP server on 127.0.0.1 (``slack_receiver``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
import time_machine
from django.utils import timezone

from catalog import permissions
from catalog import services as catalog_services
from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp, Notification, Review
from catalog.notifications import absolute, send_pending
from lifecycle.choices import SunsetReason, SunsetResponse
from lifecycle.models import Renewal, SunsetCase
from lifecycle.tasks import send_expiry_reminders
from messaging.models import ChatProfile, SlackInteraction
from tests.catalog.review_support import pii_app
from tests.factories import MicroAppFactory, UserFactory
from tests.messaging.conftest import URL, form_body, post_signed, signed_headers

pytestmark = pytest.mark.django_db

JUSTIFICATION = "Still the only way support routes tickets to the right team."


def live_app(team, owner, *, days_left: float = 10, **fields):
    now = timezone.now()
    fields.setdefault("slug", "ticket-router")
    fields.setdefault("name", "Ticket Router")
    return MicroAppFactory(
        team=team,
        owner=owner,
        state=AppState.ACTIVE,
        went_live_at=now - timedelta(days=80),
        expires_at=now + timedelta(days=days_left),
        **fields,
    )


def linked(user, slack_id: str):
    ChatProfile.objects.create(user=user, slack_user_id=slack_id)
    return user


# Each click Slack sends is new (its own trigger id), so never the same signed request.
_clicks = count(1)


def button(slack, action_id: str, value: str, *, user: str = "UALICE") -> dict:
    return {
        "type": "block_actions",
        "user": {"id": user},
        "trigger_id": f"1337.{next(_clicks)}.abcd",
        "response_url": slack.response_url(),
        "actions": [{"type": "button", "action_id": action_id, "value": value}],
    }


def submission(view: dict, text: str, *, user: str = "UALICE") -> dict:
    """The ``view_submission`` Slack sends for a modal Appkeeper opened, with ``text`` typed
    into its one input."""
    block = next(b for b in view["blocks"] if b["type"] == "input")
    field = block["element"]["action_id"]
    state = {block["block_id"]: {field: {"type": "plain_text_input", "value": text}}}
    return {
        "type": "view_submission",
        "user": {"id": user},
        "view": {
            "id": "V1",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "state": {"values": state},
        },
    }


def replies(slack) -> list[str]:
    calls = slack.of("respond")
    for call in calls:
        assert call.body["response_type"] == "ephemeral"
        assert call.body["replace_original"] is False
    return [c.body["text"] for c in calls]


@pytest.fixture
def app(alice, support_tools):
    linked(alice, "UALICE")
    return live_app(support_tools, alice)


# --- signatures ------------------------------------------------------------------------------


def test_a_validly_signed_request_is_answered_and_remembered(slack, interact):
    response = interact(button(slack, "open", ""))

    assert response.status_code == 200
    assert response.content == b""
    assert SlackInteraction.objects.count() == 1
    assert slack.calls == []  # a link button: acknowledged, nothing done


@pytest.mark.parametrize("offset", [-360, 360], ids=["six minutes old", "six minutes ahead"])
def test_a_timestamp_outside_five_minutes_is_refused(slack, client, offset):
    body = form_body(button(slack, "open", ""))
    headers = signed_headers(body, timestamp=int(timezone.now().timestamp()) + offset)

    response = post_signed(client, body, headers)

    assert response.status_code == 401
    assert SlackInteraction.objects.count() == 0


def test_a_timestamp_just_inside_the_window_is_accepted(slack, client):
    body = form_body(button(slack, "open", ""))
    headers = signed_headers(body, timestamp=int(timezone.now().timestamp()) - 290)

    assert post_signed(client, body, headers).status_code == 200


def test_a_tampered_body_is_refused(slack, client, app):
    signed = form_body(button(slack, "open", ""))
    sent = form_body(button(slack, "renew", app.slug))

    response = post_signed(client, sent, signed_headers(signed))

    assert response.status_code == 401
    assert slack.calls == []


def test_a_signature_made_with_another_secret_is_refused(slack, client):
    body = form_body(button(slack, "open", ""))

    response = post_signed(client, body, signed_headers(body, secret="not-our-signing-secret"))

    assert response.status_code == 401


@pytest.mark.parametrize(
    "headers",
    [{}, {"HTTP_X_SLACK_REQUEST_TIMESTAMP": "1700000000"}, {"HTTP_X_SLACK_SIGNATURE": "v0=00"}],
    ids=["none", "no signature", "no timestamp"],
)
def test_a_request_without_the_signature_headers_is_refused(slack, client, headers):
    response = post_signed(client, form_body(button(slack, "open", "")), headers)

    assert response.status_code == 401


def test_a_non_numeric_timestamp_is_refused(slack, client):
    body = form_body(button(slack, "open", ""))
    headers = signed_headers(body)
    headers["HTTP_X_SLACK_REQUEST_TIMESTAMP"] = "soon"

    assert post_signed(client, body, headers).status_code == 401


def test_a_replayed_request_is_refused(slack, client, app):
    body = form_body(button(slack, "sunset_accept", "999999"))
    headers = signed_headers(body)

    assert post_signed(client, body, headers).status_code == 200
    replay = post_signed(client, body, headers)

    assert replay.status_code == 401
    assert len(slack.of("respond")) == 1  # acted on once


def test_remembered_signatures_are_pruned_after_ten_minutes(slack, interact):
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        interact(button(slack, "open", "a"))
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        interact(button(slack, "open", "b"))

    assert SlackInteraction.objects.count() == 1


def test_without_a_signing_secret_the_endpoint_does_not_exist(client, settings):
    settings.SLACK_SIGNING_SECRET = ""
    body = form_body({"type": "block_actions"})

    response = post_signed(client, body, signed_headers(body, secret=""))

    assert response.status_code == 404


def test_only_post_is_answered(slack, client):
    assert client.get(URL).status_code == 405


def test_a_signed_body_without_a_json_payload_is_a_400(slack, client):
    body = b"payload=not-json"

    response = post_signed(client, body, signed_headers(body))

    assert response.status_code == 400
    assert "payload" in response.json()


# --- who clicked -------------------------------------------------------------------------------


def test_an_unknown_slack_user_is_asked_to_sign_in_first(slack, interact, app):
    response = interact(button(slack, "renew", app.slug, user="USTRANGER"))

    assert response.status_code == 200
    [text] = replies(slack)
    assert text.startswith("Sign in to Appkeeper first: <http")
    assert "/login/>, then click again." in text
    assert slack.of("views.open") == []
    assert [c.body["user"] for c in slack.of("users.info")] == ["USTRANGER"]


def test_a_new_slack_user_is_matched_by_email_once_and_remembered(slack, interact, app, alice):
    ChatProfile.objects.filter(user=alice).update(slack_user_id="")
    slack.emails["UNEW"] = alice.email.upper()  # case does not matter

    interact(button(slack, "renew", app.slug, user="UNEW"))
    interact(button(slack, "renew", app.slug, user="UNEW"))

    assert len(slack.of("users.info")) == 1
    assert ChatProfile.objects.get(user=alice).slack_user_id == "UNEW"
    assert ChatProfile.objects.get(user=alice).slack_checked_at is not None
    assert len(slack.of("views.open")) == 2


def test_an_email_shared_by_two_accounts_matches_nobody(slack, interact, app, alice):
    UserFactory(username="alice2", email=alice.email)
    slack.emails["UTWIN"] = alice.email

    interact(button(slack, "renew", app.slug, user="UTWIN"))

    assert "Sign in to Appkeeper first" in replies(slack)[0]
    assert not ChatProfile.objects.filter(slack_user_id="UTWIN").exists()


def test_a_deactivated_account_is_nobody(slack, interact, app, alice):
    alice.is_active = False
    alice.save()

    interact(button(slack, "renew", app.slug))

    assert "Sign in to Appkeeper first" in replies(slack)[0]


# --- renew --------------------------------------------------------------------------------------


def test_the_renew_modal_round_trip_renews_the_app(slack, interact, app, alice):
    before = app.expires_at

    assert interact(button(slack, "renew", app.slug)).status_code == 200
    [opened] = slack.of("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"].startswith("1337.")
    assert (view["callback_id"], view["private_metadata"]) == ("renew", app.slug)

    answer = interact(submission(view, JUSTIFICATION)).json()

    app.refresh_from_db()
    assert app.expires_at > before
    assert answer["response_action"] == "update"
    expiry = f"{app.expires_at.day} {app.expires_at:%b %Y}"
    assert f"Ticket Router is renewed until {expiry}" in str(answer["view"])
    renewal = Renewal.objects.get(app=app)
    assert (renewal.renewed_by, renewal.justification) == (alice, JUSTIFICATION)
    event = AuditEvent.objects.get(app=app, action="renewed")
    assert (event.actor, event.comment) == (alice, JUSTIFICATION)


def test_a_short_justification_comes_back_as_a_modal_error(slack, interact, app):
    interact(button(slack, "renew", app.slug))
    view = slack.of("views.open")[0].body["view"]

    answer = interact(submission(view, "because")).json()

    assert answer == {
        "response_action": "errors",
        "errors": {"justification": "Explain in at least 20 characters why."},
    }
    assert not Renewal.objects.exists()


def test_a_non_owner_clicking_renew_gets_the_web_refusal(slack, interact, app, carol):
    linked(carol, "UCAROL")

    interact(button(slack, "renew", app.slug, user="UCAROL"))

    assert replies(slack) == [permissions.DENIED["renew"]]
    assert slack.of("views.open") == []


def test_a_non_owner_submitting_a_forged_modal_is_refused(slack, interact, app, carol):
    linked(carol, "UCAROL")
    view = {
        "callback_id": "renew",
        "private_metadata": app.slug,
        "blocks": [
            {
                "type": "input",
                "block_id": "justification",
                "element": {"action_id": "justification"},
            }
        ],
    }

    answer = interact(submission(view, JUSTIFICATION, user="UCAROL")).json()

    assert answer["errors"] == {"justification": permissions.DENIED["renew"]}
    assert not Renewal.objects.exists()


def test_renew_outside_the_window_says_why(slack, interact, alice, support_tools):
    linked(alice, "UALICE")
    app = live_app(support_tools, alice, days_left=200)

    interact(button(slack, "renew", app.slug))

    [text] = replies(slack)
    assert text.startswith("Renewal opens on")
    assert slack.of("views.open") == []


def test_an_unknown_app_is_not_found(slack, interact, app):
    interact(button(slack, "renew", "no-such-app"))

    assert replies(slack) == ["Not found: it was removed, or you cannot see it."]


def test_when_slack_will_not_open_the_modal_the_web_page_is_offered(slack, interact, app):
    slack.failures["views.open"] = "expired_trigger_id"

    interact(button(slack, "renew", app.slug))

    [text] = replies(slack)
    assert text.startswith("Slack could not open the form.")
    assert text.endswith("/apps/ticket-router/renew/>")


# --- sunset cases --------------------------------------------------------------------------------


@pytest.fixture
def case(alice, support_tools):
    linked(alice, "UALICE")
    app = live_app(support_tools, alice, slug="fading-app", name="Fading App")
    MicroApp.objects.filter(pk=app.pk).update(state=AppState.SUNSETTING)
    return SunsetCase.objects.create(
        app=app,
        reason=SunsetReason.LOW_USAGE,
        grace_ends_at=timezone.now() + timedelta(days=14),
        figures={"requests": 3, "threshold": 100, "days": 90},
    )


def test_accept_retires_the_app_as_the_owner(slack, interact, case, alice):
    interact(button(slack, "sunset_accept", str(case.pk)))

    case.refresh_from_db()
    assert (case.response, case.responded_by) == (SunsetResponse.ACCEPT, alice)
    assert MicroApp.objects.get(pk=case.app_id).state == AppState.RETIRED
    assert AuditEvent.objects.filter(app_id=case.app_id, action="retired", actor=alice).exists()
    assert replies(slack) == ["Fading App is retired. Its history is kept."]


def test_accept_by_someone_else_is_refused(slack, interact, case, carol):
    linked(carol, "UCAROL")

    interact(button(slack, "sunset_accept", str(case.pk), user="UCAROL"))

    assert replies(slack) == [permissions.DENIED["respond_sunset"]]
    assert SunsetCase.objects.get(pk=case.pk).response == ""


def test_contest_asks_why_then_hands_the_case_to_the_platform(slack, interact, case, alice):
    interact(button(slack, "sunset_contest", str(case.pk)))
    view = slack.of("views.open")[0].body["view"]
    assert view["callback_id"] == "sunset_contest"

    short = interact(submission(view, "no")).json()
    answer = interact(submission(view, JUSTIFICATION)).json()

    assert short["errors"] == {"justification": "Explain in at least 20 characters why."}
    assert "Your contest is with the platform team." in str(answer["view"])
    case.refresh_from_db()
    assert (case.response, case.justification) == (SunsetResponse.CONTEST, JUSTIFICATION)
    assert AuditEvent.objects.filter(app_id=case.app_id, action="sunset_contested").exists()


def test_answering_a_case_twice_gives_the_service_reason(slack, interact, case):
    interact(button(slack, "sunset_contest", str(case.pk)))
    view = slack.of("views.open")[0].body["view"]
    interact(submission(view, JUSTIFICATION))

    interact(button(slack, "sunset_accept", str(case.pk)))

    assert replies(slack) == ["This sunset case was already answered (contested)."]


# --- reviews -------------------------------------------------------------------------------------


@pytest.fixture
def review(alice, support_tools, regions, pat):
    linked(pat, "UPAT")
    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Clean App")
    catalog_services.app_submit(app=app, actor=alice)
    return Review.objects.get(app=app)


def test_approve_by_the_platform_team_puts_the_app_live(slack, interact, review, pat):
    interact(button(slack, "review_approve", str(review.pk), user="UPAT"))

    review.refresh_from_db()
    assert (review.decision, review.reviewer) == ("approved", pat)
    assert MicroApp.objects.get(pk=review.app_id).state == AppState.ACTIVE
    assert replies(slack) == ["Review of Clean App: approved."]


def test_approve_by_someone_off_the_board_is_refused(slack, interact, review, bob):
    linked(bob, "UBOB")

    interact(button(slack, "review_approve", str(review.pk), user="UBOB"))

    assert replies(slack) == [permissions.DENIED["decide_review"]]
    assert Review.objects.get(pk=review.pk).decision == ""


def test_a_second_approval_is_told_someone_decided(slack, interact, review):
    interact(button(slack, "review_approve", str(review.pk), user="UPAT"))
    interact(button(slack, "review_approve", str(review.pk), user="UPAT"))

    assert replies(slack)[1] == "Someone decided this review already."


def test_request_changes_takes_a_comment_and_returns_the_app_to_draft(slack, interact, review):
    interact(button(slack, "review_request_changes", str(review.pk), user="UPAT"))
    view = slack.of("views.open")[0].body["view"]

    empty = interact(submission(view, "  ", user="UPAT")).json()
    answer = interact(submission(view, "Add the data retention period.", user="UPAT")).json()

    assert empty["errors"] == {"comment": "Tell the owner what to change or why it is rejected."}
    assert "Review of Clean App: changes requested." in str(answer["view"])
    review.refresh_from_db()
    assert (review.decision, review.comment) == (
        "changes_requested",
        "Add the data retention period.",
    )
    assert MicroApp.objects.get(pk=review.app_id).state == AppState.DRAFT


# --- cost ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("others", [0, 20])
def test_a_renewal_from_slack_costs_the_same_whatever_the_fleet(
    slack, interact, app, alice, support_tools, others, django_assert_max_num_queries
):
    for n in range(others):
        live_app(support_tools, alice, slug=f"other-{n}", name=f"Other {n}")
    interact(button(slack, "renew", app.slug))
    view = slack.of("views.open")[0].body["view"]

    # The renewal as the web does it, plus the renewal notice's routing (the owner's
    # preferences, the team's chat copies).
    with django_assert_max_num_queries(19):
        answer = interact(submission(view, JUSTIFICATION)).json()

    assert answer["response_action"] == "update"


# --- the whole path --------------------------------------------------------------------------


def test_from_the_reminder_job_to_a_renewal_clicked_in_slack(slack, interact, alice, support_tools):
    with time_machine.travel(datetime(2027, 2, 22, 9, 30, tzinfo=UTC), tick=False):
        linked(alice, "UALICE")
        app = live_app(support_tools, alice, days_left=6.5)
        expiry = app.expires_at

        assert send_expiry_reminders() == 1
        # The outbox delivers alice's email, the team contact's copy and, through the local
        # Slack, alice's direct message.
        assert send_pending().sent == 3
        dm = Notification.objects.get(
            app=app, recipient=alice, kind="expiry_reminder", channel="slack"
        )
        assert dm.sent_at is not None

        [posted] = slack.of("chat.postMessage")
        assert posted.body["channel"] == "UALICE"
        [actions] = [b for b in posted.body["blocks"] if b["type"] == "actions"]
        renew = next(e for e in actions["elements"] if e["action_id"] == "renew")
        click = button(slack, renew["action_id"], renew["value"])
        assert interact(click).status_code == 200
        [opened] = slack.of("views.open")
        answer = interact(submission(opened.body["view"], JUSTIFICATION)).json()

        app.refresh_from_db()
        assert app.expires_at == app.next_expiry(expiry)
        assert answer["response_action"] == "update"
        assert "Ticket Router is renewed until" in str(answer["view"])
        assert AuditEvent.objects.filter(app=app, action="renewed", actor=alice).exists()
        assert Notification.objects.filter(app=app, kind="app_renewed", recipient=alice).exists()


def test_approving_past_a_failing_checklist_points_to_the_review_page(slack, interact, review):
    MicroApp.objects.filter(pk=review.app_id).update(sla_availability=None)

    interact(button(slack, "review_approve", str(review.pk), user="UPAT"))

    [text] = replies(slack)
    assert "The go-live checklist is not met (SLA declared)." in text
    page = absolute(f"/reviews/{review.pk}/")
    assert text.endswith(f"Decide it on the review's page: <{page}>")
    assert Review.objects.get(pk=review.pk).decision == ""


def test_a_form_submitted_by_an_unknown_slack_user_is_refused_in_the_form(slack, interact, app):
    interact(button(slack, "renew", app.slug))
    view = slack.of("views.open")[0].body["view"]

    answer = interact(submission(view, JUSTIFICATION, user="USTRANGER")).json()

    assert answer["errors"]["justification"].startswith("Sign in to Appkeeper first")
    assert not Renewal.objects.exists()
