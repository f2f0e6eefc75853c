"""Slack outbound through the real outbox, the real slack-sdk client and a local Slack."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog import notifications
from catalog.choices import NotificationChannel
from catalog.models import Notification, Review
from core.outbox import MAX_ATTEMPTS, backoff
from lifecycle.choices import NoticeKind, SunsetReason
from lifecycle.models import SunsetCase
from lifecycle.services.reminders import reminders_send
from messaging.alerts import raise_alert
from messaging.fanout import team_chat_copies
from messaging.models import AlertCode, ChatProfile, IntegrationAlert
from messaging.slack import blocks
from tests.factories import MicroAppFactory
from tests.messaging.block_kit import message_errors, view_errors
from tests.messaging.slack_server import SlackServer

SLACK = NotificationChannel.SLACK


@pytest.fixture
def slack(settings, db):
    with SlackServer() as server:
        server.configure(settings)
        yield server


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(
        team=support_tools,
        owner=alice,
        state="active",
        expires_at=timezone.now() + timedelta(days=10, hours=1),
    )


def slack_row(*, key: str, app=None, recipient=None, team=None, kind="app_renewed", link=""):
    return notifications.notify(
        recipient=recipient,
        team=team,
        app=app,
        kind=kind,
        subject=f"Subject {key}",
        body="Body & <text>",
        dedupe_key=key,
        link=link,
        channel=SLACK,
    )


def given_up(note: Notification) -> bool:
    note.refresh_from_db()
    return note.sent_at is None and note.attempts >= MAX_ATTEMPTS and note.next_attempt_at is None


def posted(slack: SlackServer) -> list[dict]:
    return [c.body for c in slack.calls("chat.postMessage")]


# --- direct messages -----------------------------------------------------------------------------


def test_a_direct_message_finds_the_person_by_email_once(slack, alice, app):
    slack.add_user("U0ALICE", alice.email)
    slack_row(key="dm:1", recipient=alice, app=app, kind=NoticeKind.EXPIRY_REMINDER, link="/x/")

    assert notifications.send_pending().sent == 1

    [post] = posted(slack)
    assert post["channel"] == "U0ALICE"
    assert message_errors(post["text"], post["blocks"]) == []
    assert ChatProfile.objects.get(user=alice).slack_user_id == "U0ALICE"
    slack_row(key="dm:2", recipient=alice, app=app)
    assert notifications.send_pending().sent == 1
    assert len(slack.calls("users.lookupByEmail")) == 1  # the id was kept
    assert [p["channel"] for p in posted(slack)] == ["U0ALICE", "U0ALICE"]
    assert {c.token for c in slack.calls()} == {slack.state.token}


def test_a_person_not_in_slack_is_given_up_and_asked_about_once_a_day(slack, alice):
    first = slack_row(key="dm:1", recipient=alice)
    assert notifications.send_pending().gave_up == 1
    assert given_up(first)
    assert "not in this Slack workspace" in first.last_error
    assert not IntegrationAlert.objects.exists()  # nothing for the platform team to fix

    slack_row(key="dm:2", recipient=alice)
    assert notifications.send_pending().gave_up == 1
    assert len(slack.calls("users.lookupByEmail")) == 1

    slack.add_user("U0ALICE", alice.email)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        slack_row(key="dm:3", recipient=alice)
        assert notifications.send_pending().sent == 1
    assert len(slack.calls("users.lookupByEmail")) == 2


def test_a_person_who_left_slack_is_looked_up_again_after_a_day(slack, alice):
    ChatProfile.objects.create(user=alice, slack_user_id="U0GONE")
    slack.respond("chat.postMessage", error="user_not_found", times=1)
    note = slack_row(key="dm:1", recipient=alice)
    assert notifications.send_pending().gave_up == 1
    assert given_up(note)
    assert "left the workspace" in note.last_error
    assert ChatProfile.objects.get(user=alice).slack_user_id == ""
    assert not IntegrationAlert.objects.exists()

    slack.add_user("U0ALICE", alice.email)
    with time_machine.travel(timezone.now() + timedelta(days=1, minutes=1)):
        slack_row(key="dm:2", recipient=alice)
        assert notifications.send_pending().sent == 1
    assert posted(slack)[-1]["channel"] == "U0ALICE"


def test_without_a_token_slack_rows_are_undeliverable(settings, alice):
    settings.SLACK_BOT_TOKEN = ""
    note = slack_row(key="dm:1", recipient=alice)
    assert notifications.send_pending().gave_up == 1
    assert given_up(note)
    assert "SLACK_BOT_TOKEN" in note.last_error


def test_a_team_row_without_a_channel_is_undeliverable(slack, support_tools):
    note = slack_row(key="team:1", team=support_tools)
    assert notifications.send_pending().gave_up == 1
    assert given_up(note)
    assert note.last_error == "The team has no Slack channel."
    assert slack.calls() == []


# --- team channel fan-out ----------------------------------------------------------------------


def test_the_reminder_job_posts_to_the_team_channel_once(slack, settings, alice, app):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    support_tools = app.team
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    slack.add_user("U0ALICE", alice.email)

    assert reminders_send() == 1
    assert reminders_send() == 0  # the job again: nothing new, no second Slack row

    # The team's copy; alice's own reminder also has its direct-message copy.
    [row] = Notification.objects.filter(channel=SLACK, recipient__isnull=True)
    assert row.team == support_tools
    assert row.dedupe_key.endswith(":slack")
    notifications.send_pending()
    by_channel = {post["channel"]: post for post in posted(slack)}
    assert set(by_channel) == {"C0SUPPORT", "U0ALICE"}  # the team's channel, alice's DM
    post = by_channel["C0SUPPORT"]
    assert message_errors(post["text"], post["blocks"]) == []
    [actions] = [b for b in post["blocks"] if b["type"] == "actions"]
    assert actions["elements"][0] == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Renew", "emoji": True},
        "action_id": "renew",
        "value": app.slug,
        "style": "primary",
    }


def test_the_email_and_webhook_copies_of_a_notice_make_one_slack_post(support_tools, app):
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.webhook_url = "https://hooks.example.com/x"
    support_tools.save()
    rows = notifications.owner_notifications(
        app=app, kind="x", subject="s", body="b", dedupe_key="k"
    )
    assert {r.dedupe_key for r in rows} >= {"k:team", "k:webhook"}
    [copy] = team_chat_copies(rows)
    assert (copy.dedupe_key, copy.team_id, copy.channel) == ("k:slack", support_tools.pk, SLACK)

    notifications.notify_owners(app=app, kind="x", subject="s", body="b", dedupe_key="n")
    assert Notification.objects.filter(channel=SLACK, dedupe_key="n:slack").count() == 1


def test_teams_without_a_channel_get_no_slack_copy(support_tools, app):
    rows = notifications.owner_notifications(
        app=app, kind="x", subject="s", body="b", dedupe_key="k"
    )
    assert team_chat_copies(rows) == []
    notifications.notify(team=support_tools, kind="x", subject="s", body="b", dedupe_key="t")
    assert not Notification.objects.filter(channel=SLACK).exists()


# --- messages ------------------------------------------------------------------------------------


def action_ids(post: blocks.SlackPost) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e.get("value", ""))
        for b in post.blocks
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_every_builder_sends_valid_block_kit(alice, pat, app, support_tools):
    case = SunsetCase.objects.create(
        app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() + timedelta(days=14)
    )
    review = Review.objects.create(app=app, due_at=timezone.now() + timedelta(hours=48))
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    cases = {
        NoticeKind.EXPIRY_REMINDER: (alice, [("renew", app.slug)]),
        NoticeKind.SUNSET_NOTICE: (
            alice,
            [("sunset_accept", str(case.pk)), ("sunset_contest", str(case.pk))],
        ),
        "review_requested": (
            pat,
            [("review_approve", str(review.pk)), ("review_request_changes", str(review.pk))],
        ),
        "review_overdue": (
            pat,
            [("review_approve", str(review.pk)), ("review_request_changes", str(review.pk))],
        ),
        "contract_breaking": (None, []),
    }
    for kind, (who, buttons) in cases.items():
        note = Notification(
            recipient=who,
            team=None if who else support_tools,
            app=app,
            kind=kind,
            subject="S" * 300,  # longer than a header may be: clipped
            body="x" * 5000,
            link=app.get_absolute_url(),
            dedupe_key=kind,
        )
        post = blocks.message_for(note)
        assert message_errors(post.text, post.blocks) == [], kind
        assert action_ids(post) == [*buttons, ("open", "")], kind
        section = post.blocks[2]["fields"]
        assert f"|{app.name}>" in section[0]["text"]

    assert view_errors(blocks.renew_modal(app)) == []
    assert view_errors(blocks.contest_modal(case)) == []


def test_a_closed_matter_has_no_buttons_and_names_are_escaped(alice, app):
    app.name = "Tickets <b> & co"
    note = Notification(
        recipient=alice, app=app, kind=NoticeKind.SUNSET_NOTICE, subject="s", body="b"
    )
    post = blocks.message_for(note)
    assert message_errors(post.text, post.blocks) == []
    assert action_ids(post) == []
    assert "Tickets &lt;b&gt; &amp; co" in post.blocks[2]["fields"][0]["text"]


def test_the_validator_refuses_what_slack_refuses():
    too_long = {"type": "header", "text": {"type": "plain_text", "text": "h" * 151}}
    twice = {
        "type": "actions",
        "elements": [
            {"type": "button", "text": {"type": "plain_text", "text": "A"}, "action_id": "a"},
            {
                "type": "button",
                "text": {"type": "mrkdwn", "text": "B"},
                "action_id": "a",
                "style": "green",
            },
        ],
    }
    errors = message_errors("", [too_long, twice] + [{"type": "divider"}] * 49)
    assert any(e.startswith("text:") for e in errors)
    assert any("151 characters > 150" in e for e in errors)
    assert any("not unique" in e for e in errors)
    assert any(".style" in e for e in errors)
    assert any("plain_text" in e for e in errors)
    assert any("51 > 50" in e for e in errors)
    bad_view = {"type": "modal", "title": {"type": "plain_text", "text": "t" * 25}, "blocks": []}
    assert len(view_errors(bad_view)) == 2


# --- failures ------------------------------------------------------------------------------------


def test_a_revoked_token_gives_rows_up_with_one_alert(slack, support_tools):
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    slack.respond("chat.postMessage", error="token_revoked")
    rows = [slack_row(key=f"team:{i}", team=support_tools) for i in range(3)]

    result = notifications.send_pending()

    assert (result.sent, result.gave_up) == (0, 3)
    assert all(given_up(r) for r in rows)
    assert "token_revoked" in rows[0].last_error
    [alert] = IntegrationAlert.objects.all()
    assert (alert.code, alert.target, alert.count) == (AlertCode.SLACK_AUTH, "", 3)
    assert notifications.send_pending().claimed == 0  # no endless retry
    assert len(slack.calls("chat.postMessage")) == 3


def test_a_deleted_channel_raises_an_alert_on_its_team(slack, support_tools, field_ops):
    support_tools.slack_channel = "C0GONE"
    support_tools.save()
    field_ops.slack_channel = "C0FIELD"
    field_ops.save()
    slack.respond("chat.postMessage", error="channel_not_found", times=2)
    gone = [slack_row(key=f"gone:{i}", team=support_tools) for i in range(2)]
    fine = slack_row(key="fine", team=field_ops)

    result = notifications.send_pending()

    assert (result.sent, result.gave_up) == (1, 2)
    assert all(given_up(r) for r in gone)
    fine.refresh_from_db()
    assert fine.sent_at is not None
    [alert] = IntegrationAlert.objects.filter(resolved_at__isnull=True)
    assert (alert.code, alert.target, alert.team, alert.count) == (
        AlertCode.SLACK_CHANNEL,
        "C0GONE",
        support_tools,
        2,
    )
    assert "invite the Appkeeper bot" in alert.message


def test_a_rate_limit_is_retried_with_backoff(slack, support_tools):
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    slack.respond(
        "chat.postMessage", status=429, error="ratelimited", headers={"Retry-After": "30"}, times=1
    )
    note = slack_row(key="team:1", team=support_tools)
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        result = notifications.send_pending()
    assert (result.failed, result.gave_up) == (1, 0)
    note.refresh_from_db()
    assert note.next_attempt_at == start + backoff(1)
    assert "rate limit" in note.last_error
    assert not IntegrationAlert.objects.exists()

    with time_machine.travel(start + timedelta(seconds=30), tick=False):
        assert notifications.send_pending().claimed == 0  # the outbox's backoff, not Slack's
    with time_machine.travel(start + backoff(1), tick=False):
        assert notifications.send_pending().sent == 1


def test_a_delivery_that_works_again_resolves_the_alerts(slack, support_tools, field_ops):
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    raise_alert(AlertCode.SLACK_AUTH, "", "token revoked")
    raise_alert(AlertCode.SLACK_CHANNEL, "C0SUPPORT", "gone", team=support_tools)
    other = raise_alert(AlertCode.SLACK_CHANNEL, "C0OTHER", "gone", team=field_ops)

    slack_row(key="team:1", team=support_tools)
    assert notifications.send_pending().sent == 1

    assert list(IntegrationAlert.objects.filter(resolved_at__isnull=True)) == [other]


# --- queries -------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", [2, 6])
def test_the_outbox_with_slack_rows_stays_in_its_query_budget(
    size, slack, alice, bob, support_tools, django_assert_max_num_queries
):
    support_tools.slack_channel = "C0SUPPORT"
    support_tools.save()
    slack.add_user("U0ALICE", alice.email)
    ChatProfile.objects.create(user=bob, slack_user_id="U0BOB")
    for i in range(size):
        app = MicroAppFactory(team=support_tools, owner=alice, state="active")
        SunsetCase.objects.create(
            app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() + timedelta(7)
        )
        slack_row(key=f"a:{i}", recipient=alice, app=app, kind=NoticeKind.SUNSET_NOTICE)
        slack_row(key=f"b:{i}", recipient=bob, app=app, kind=NoticeKind.EXPIRY_REMINDER)
        slack_row(key=f"t:{i}", team=support_tools, app=app, kind="review_requested")
        notifications.notify(
            recipient=bob, app=app, kind="x", subject="s", body="b", dedupe_key=f"e:{i}"
        )
    # Each notify() to bob also queues his Slack copy (Slack is configured here).
    rows = 5 * size
    slack_rows = 4 * size
    # Per row: its attempt and its outcome. A Slack row at most three more: the open case
    # or review its buttons act on, the alerts its success resolves (two for a channel),
    # or for a person the claim found no chat profile for, reading it again; plus one
    # upsert of the profile the first lookup by email fills.
    with django_assert_max_num_queries(4 + 2 * rows + 3 * slack_rows + 1):
        assert notifications.send_pending().sent == rows
    assert len(slack.calls("users.lookupByEmail")) == 1


# --- the manifest and the local Slack ------------------------------------------------------------


def test_the_manifest_asks_for_what_the_code_calls():
    from pathlib import Path

    import yaml

    manifest = yaml.safe_load(Path("docs/slack-app-manifest.yaml").read_text())
    assert set(manifest["oauth_config"]["scopes"]["bot"]) == {
        "chat:write",
        "chat:write.public",
        "users:read",
        "users:read.email",
        "im:write",
    }
    settings_ = manifest["settings"]
    assert settings_["socket_mode_enabled"] is False
    assert settings_["interactivity"]["request_url"].endswith("/integrations/slack/interactions/")
    assert manifest["features"]["bot_user"]["display_name"]


def test_the_local_slack_answers_the_other_methods_like_slack(slack, alice):
    from slack_sdk.errors import SlackApiError
    from slack_sdk.webhook import WebhookClient

    from messaging.slack.client import web_client

    client = web_client()
    slack.add_user("U0ALICE", alice.email)
    assert client.users_info(user="U0ALICE")["user"]["profile"]["email"] == alice.email
    with pytest.raises(SlackApiError) as missing:
        client.users_info(user="U0NOBODY")
    assert missing.value.response["error"] == "user_not_found"
    view = client.views_open(trigger_id="t.1", view=blocks.renew_modal(MicroAppFactory()))
    assert view["view"]["id"] and view["view"]["callback_id"] == blocks.RENEW_MODAL
    assert WebhookClient(slack.response_url("r1")).send(text="Renewed").status_code == 200
    assert [c.method for c in slack.calls()] == [
        "users.info",
        "users.info",
        "views.open",
        "response:r1",
    ]
    assert slack.calls("response:r1")[0].body == {"text": "Renewed"}
