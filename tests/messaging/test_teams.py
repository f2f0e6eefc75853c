"""Microsoft Teams: Adaptive Cards checked against the published schema's constraints, the
Teams copy of team notices, delivery to a real local receiver standing in for Workflows,
the team's chat settings on the page and the API, and the ops panel and metrics."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import jsonschema
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from catalog import notifications
from catalog.choices import NotificationChannel
from catalog.models import AuditEvent, MicroApp, Notification, Review, Team
from core.outbox import MAX_ATTEMPTS
from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase
from messaging import health
from messaging.fanout import team_chat_copies
from messaging.models import AlertCode, IntegrationAlert
from messaging.teams.cards import card, workflows_payload
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

SCHEMA_PATH = (
    Path(__file__).parents[1] / "data" / "adaptive-cards" / "adaptive-card-1.5-subset.json"
)
SCHEMA = json.loads(SCHEMA_PATH.read_text())
VALIDATOR = jsonschema.Draft6Validator(
    SCHEMA, format_checker=jsonschema.Draft6Validator.FORMAT_CHECKER
)


def assert_valid_card(content: dict) -> None:
    errors = sorted(VALIDATOR.iter_errors(content), key=lambda e: list(e.path))
    assert errors == [], [f"{list(e.path)}: {e.message}" for e in errors]


# --- a local receiver standing in for Teams Workflows ------------------------------------


class Receiver:
    """Records each POST body; answers ``status`` (202 unless a test says otherwise)."""

    def __init__(self) -> None:
        self.status = 202
        self.bodies: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (the stdlib's name)
                length = int(self.headers.get("Content-Length", 0))
                owner.bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(owner.status)
                self.end_headers()

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/workflows/abc?sig=secret"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    settings.APPKEEPER_TEAMS_WEBHOOK_HOSTS = [".logic.azure.com", "127.0.0.1"]
    settings.APPKEEPER_BASE_URL = "https://appkeeper.example.com"
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def app(db, receiver):
    team = TeamFactory(
        slug="payments", name="Payments", teams_webhook_url=receiver.url, contact_email="p@x.io"
    )
    owner = UserFactory(username="olga", first_name="Olga", last_name="Owner")
    return MicroAppFactory(
        slug="ledger",
        name="Ledger",
        team=team,
        owner=owner,
        state="active",
        expires_at=timezone.now() + timedelta(days=5, hours=1),
    )


def team_note(app: MicroApp, kind: str = "expiry_reminder", key: str = "r:1") -> Notification:
    """A team-contact notice about ``app`` queued the way the jobs queue them."""
    notifications.queue(
        [
            Notification(
                team=app.team,
                app=app,
                kind=kind,
                subject=f"{app.name} expires in 5 days",
                body="Renew it or it will be sunset.",
                link=f"/apps/{app.slug}/renew/",
                dedupe_key=f"{key}:team",
            )
        ]
    )
    return Notification.objects.get(channel=NotificationChannel.TEAMS, dedupe_key=f"{key}:teams")


# --- cards --------------------------------------------------------------------------------


def test_an_expiry_card_has_the_facts_and_links_and_fits_the_schema(app):
    note = team_note(app)
    payload = workflows_payload(note)
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert attachment["contentUrl"] is None
    content = attachment["content"]
    assert_valid_card(content)
    assert content["version"] == "1.5"
    title = content["body"][0]
    assert (title["type"], title["weight"], title["wrap"]) == ("TextBlock", "Bolder", True)
    facts = {f["title"]: f["value"] for f in content["body"][1]["facts"]}
    assert facts["App"] == "Ledger (ledger)"
    assert facts["Team"] == "Payments"
    assert facts["Owner"] == "Olga Owner"
    assert facts["Days left"] == "5 days"
    assert "Expires" in facts
    links = {a["title"]: a["url"] for a in content["actions"]}
    assert links["Renew"] == "https://appkeeper.example.com/apps/ledger/renew/"
    assert links["Open app"] == f"https://appkeeper.example.com{app.get_absolute_url()}"


def test_sunset_and_review_cards_link_to_where_people_answer(app, pat):
    case = SunsetCase.objects.create(
        app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() + timedelta(days=10)
    )
    sunset = card(team_note(app, kind="sunset_notice", key="s:1"))
    assert_valid_card(sunset)
    facts = {f["title"]: f["value"] for f in sunset["body"][1]["facts"]}
    assert facts["Answer by"] == timezone.localtime(case.grace_ends_at).strftime("%Y-%m-%d")
    links = {a["title"]: a["url"] for a in sunset["actions"]}
    assert links["Answer the sunset case"].endswith(app.get_absolute_url() + "#lifecycle")

    review = Review.objects.create(app=app, requested_by=pat, due_at=timezone.now())
    reviewed = card(team_note(app, kind="review_requested", key="v:1"))
    assert_valid_card(reviewed)
    links = {a["title"]: a["url"] for a in reviewed["actions"]}
    assert links["Open the review"].endswith(f"/reviews/{review.pk}/")


def test_a_notice_about_no_app_is_still_a_valid_card(receiver, db):
    team = TeamFactory(slug="ops", teams_webhook_url=receiver.url)
    note = Notification(team=team, kind="other", subject="Hello", body="", dedupe_key="x")
    content = card(note)
    assert_valid_card(content)
    assert "actions" not in content


def test_the_schema_refuses_what_teams_would_refuse(app):
    content = card(team_note(app))
    broken = json.loads(json.dumps(content))
    del broken["actions"][0]["url"]
    assert list(VALIDATOR.iter_errors(broken))
    broken = json.loads(json.dumps(content))
    broken["body"][0]["weight"] = "Heavy"
    assert list(VALIDATOR.iter_errors(broken))
    broken = json.loads(json.dumps(content))
    broken["body"][1]["facts"][0] = {"title": "App"}
    assert list(VALIDATOR.iter_errors(broken))
    del broken["version"]
    assert list(VALIDATOR.iter_errors(broken))


# --- fan-out ------------------------------------------------------------------------------


def test_a_team_notice_gets_one_teams_copy_however_many_team_rows_carry_it(app, settings):
    app.team.webhook_url = "https://hooks.example.com/in"
    app.team.save()
    app = MicroApp.objects.select_related("team", "owner").get(pk=app.pk)
    rows = notifications.owner_notifications(
        app=app, kind="expiry_reminder", subject="s", body="b", dedupe_key="remind:7"
    )
    notifications.queue(rows)
    notifications.queue(
        notifications.owner_notifications(
            app=app, kind="expiry_reminder", subject="s", body="b", dedupe_key="remind:7"
        )
    )
    copies = Notification.objects.filter(channel=NotificationChannel.TEAMS)
    assert list(copies.values_list("dedupe_key", "team__slug", "recipient_id")) == [
        ("remind:7:teams", "payments", None)
    ]


def test_notify_for_a_team_queues_the_teams_copy_too(app):
    notifications.notify(team=app.team, app=app, kind="k", subject="s", body="b", dedupe_key="n:1")
    assert Notification.objects.filter(
        channel=NotificationChannel.TEAMS, dedupe_key="n:1:teams"
    ).exists()


def test_people_and_teams_without_a_teams_webhook_get_no_copy(app, db):
    quiet = TeamFactory(slug="quiet")
    person = Notification(recipient=app.owner, app=app, kind="k", subject="s", body="b")
    team_row = Notification(team=quiet, kind="k", subject="s", body="b", dedupe_key="q:team")
    assert team_chat_copies([person, team_row]) == []


# --- delivery -----------------------------------------------------------------------------


def test_workflows_answering_202_delivers_the_card(app, receiver):
    note = team_note(app)
    result = notifications.send_pending()
    note.refresh_from_db()
    assert note.sent_at is not None
    assert result.sent >= 1
    teams_bodies = [b for b in receiver.bodies if b.get("type") == "message"]
    assert len(teams_bodies) == 1
    assert_valid_card(teams_bodies[0]["attachments"][0]["content"])


def test_a_removed_webhook_gives_up_at_once_with_one_alert(app, receiver):
    receiver.status = 404
    first = team_note(app, key="a")
    second = team_note(app, key="b")
    notifications.send_pending()
    for note in (first, second):
        note.refresh_from_db()
        assert note.sent_at is None
        assert note.attempts == MAX_ATTEMPTS  # given up: never tried again
        assert note.next_attempt_at is None
        assert "404" in note.last_error
    (alert,) = IntegrationAlert.objects.filter(resolved_at__isnull=True)
    assert (alert.code, alert.target, alert.team, alert.count) == (
        AlertCode.TEAMS_WEBHOOK,
        "payments",
        app.team,
        2,
    )
    assert "set a new one on the team page" in alert.message


def test_a_malformed_card_is_given_up_as_a_bug_without_blaming_the_team(app, receiver):
    receiver.status = 400
    note = team_note(app)
    notifications.send_pending()
    note.refresh_from_db()
    assert note.attempts == MAX_ATTEMPTS
    assert "bug" in note.last_error
    assert not IntegrationAlert.objects.exists()


def test_a_server_error_is_retried_and_a_later_success_resolves_the_alert(app, receiver):
    IntegrationAlert.objects.create(
        code=AlertCode.TEAMS_WEBHOOK, target="payments", team=app.team, message="old"
    )
    receiver.status = 500
    note = team_note(app)
    notifications.send_pending()
    note.refresh_from_db()
    assert (note.sent_at, note.attempts) == (None, 1)
    assert note.next_attempt_at is not None  # retried after the backoff
    assert IntegrationAlert.objects.filter(resolved_at__isnull=True).count() == 1

    receiver.status = 202
    Notification.objects.filter(pk=note.pk).update(next_attempt_at=timezone.now())
    notifications.send_pending()
    note.refresh_from_db()
    assert note.sent_at is not None
    assert not IntegrationAlert.objects.filter(resolved_at__isnull=True).exists()


def test_a_webhook_on_a_host_no_longer_allowed_is_never_posted(app, receiver, settings):
    settings.APPKEEPER_TEAMS_WEBHOOK_HOSTS = [".logic.azure.com"]
    note = team_note(app)
    notifications.send_pending()
    note.refresh_from_db()
    assert note.attempts == MAX_ATTEMPTS
    assert not [b for b in receiver.bodies if b.get("type") == "message"]
    assert IntegrationAlert.objects.filter(code=AlertCode.TEAMS_WEBHOOK).count() == 1


# --- team settings ------------------------------------------------------------------------

AZURE = "https://prod-12.westeurope.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?sig=s3cr3t"


@pytest.fixture
def led(support_tools, alice):
    support_tools.lead = alice
    support_tools.save()
    return support_tools


def test_the_lead_sets_the_chat_channels_on_the_team_page(client, led, alice):
    client.force_login(alice)
    page = client.get("/teams/support-tools/").content.decode()
    assert "Save chat settings" in page
    answer = client.post(
        "/teams/support-tools/chat/",
        {"slack_channel": "#support-tools", "teams_webhook_url": AZURE},
    )
    assert answer.status_code == 302
    led.refresh_from_db()
    assert (led.slack_channel, led.teams_webhook_url) == ("#support-tools", AZURE)
    event = AuditEvent.objects.get(action="team_chat_changed")
    assert "s3cr3t" not in json.dumps(event.data)
    page = client.get("/teams/support-tools/").content.decode()
    assert "prod-12.westeurope.logic.azure.com/…" in page
    assert "s3cr3t" not in page
    # Saving the channel alone keeps the webhook; "remove" clears it.
    client.post("/teams/support-tools/chat/", {"slack_channel": "C0123ABCD"})
    led.refresh_from_db()
    assert (led.slack_channel, led.teams_webhook_url) == ("C0123ABCD", AZURE)
    client.post(
        "/teams/support-tools/chat/", {"slack_channel": "C0123ABCD", "remove_teams_webhook": "on"}
    )
    led.refresh_from_db()
    assert led.teams_webhook_url == ""


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("teams_webhook_url", "https://evil.example.com/hook", "one of these hosts"),
        ("teams_webhook_url", "http://prod-1.logic.azure.com/hook", "one of these hosts"),
        ("slack_channel", "#Support Tools", "Slack channel id"),
        ("slack_channel", "X0123ABCD", "Slack channel id"),
    ],
)
def test_a_refused_value_is_a_field_error_and_nothing_is_saved(
    client, led, alice, field, value, message
):
    client.force_login(alice)
    answer = client.post("/teams/support-tools/chat/", {field: value})
    assert answer.status_code == 400
    assert message in answer.content.decode()
    led.refresh_from_db()
    assert (led.slack_channel, led.teams_webhook_url) == ("", "")


def test_members_who_do_not_lead_the_team_cannot_change_its_chat(client, led, bob, carol):
    for user in (bob, carol):
        client.force_login(user)
        assert "Save chat settings" not in client.get("/teams/support-tools/").content.decode()
        assert client.post("/teams/support-tools/chat/", {"slack_channel": "#x"}).status_code == 403
    led.refresh_from_db()
    assert led.slack_channel == ""


def test_the_api_patch_for_the_lead_and_the_platform_team(api_as, led, alice, bob, pat):
    url = "/api/v1/teams/support-tools/chat/"
    answer = api_as(alice).patch(url, {"teams_webhook_url": AZURE}, format="json")
    assert answer.status_code == 200, answer.content
    assert answer.json() == {
        "slack_channel": "",
        "teams_webhook_configured": True,
        "teams_webhook_host": "prod-12.westeurope.logic.azure.com/…",
    }
    answer = api_as(pat).patch(url, {"slack_channel": "G0123ABCDE"}, format="json")
    assert answer.status_code == 200
    assert api_as(bob).patch(url, {"slack_channel": "#x"}, format="json").status_code == 403
    refused = api_as(alice).patch(
        url, {"teams_webhook_url": "ftp://x.logic.azure.com/"}, format="json"
    )
    assert refused.status_code == 400
    assert "https URL" in refused.json()["teams_webhook_url"][0]
    led.refresh_from_db()
    assert (led.slack_channel, led.teams_webhook_url) == ("G0123ABCDE", AZURE)
    listed = api_as(bob).get("/api/v1/teams/").content.decode()
    assert "s3cr3t" not in listed and "logic.azure.com" not in listed
    assert '"teams_webhook_configured":true' in listed.replace(" ", "")


# --- ops and metrics ----------------------------------------------------------------------


def _fill(team: Team, n: int) -> None:
    for i in range(n):
        for channel in (NotificationChannel.EMAIL, NotificationChannel.TEAMS):
            Notification.objects.create(
                team=team,
                kind="k",
                subject="s",
                body="b",
                channel=channel,
                dedupe_key=f"fill:{team.slug}:{channel}:{i}",
                attempts=MAX_ATTEMPTS if i % 3 == 0 else i % 2,
                last_error="HTTP 404" if i % 3 == 0 else "",
                sent_at=timezone.now() if i % 3 == 1 else None,
            )
        IntegrationAlert.objects.create(
            code=AlertCode.TEAMS_WEBHOOK, target=f"{team.slug}-{i}", team=team, message=f"m{i}"
        )


def _ops_queries(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/ops/")
    assert answer.status_code == 200
    return len(queries), answer.content.decode()


def test_the_integrations_panel_in_the_same_queries_for_few_and_many_rows(client, pat):
    team = TeamFactory(slug="payments", name="Payments")
    client.force_login(pat)
    _fill(team, 2)
    few, html = _ops_queries(client)
    assert "Integrations" in html and "m1" in html
    _fill(TeamFactory(slug="ledger-team"), 30)
    many, html = _ops_queries(client)
    assert many == few
    assert 'id="deliveries-teams"' in html and 'id="deliveries-slack"' in html


def _scrape(client) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        answer = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert answer.status_code == 200
    return len(queries), answer.content.decode()


def test_metrics_count_waiting_and_given_up_rows_and_open_alerts(
    client, db, django_assert_num_queries
):
    team = TeamFactory(slug="payments")
    _fill(team, 6)  # per channel: 2 given up, 2 sent, 2 waiting
    IntegrationAlert.objects.filter(target="payments-0").update(resolved_at=timezone.now())
    few, text = _scrape(client)
    assert 'appkeeper_notifications_pending{channel="teams"} 2.0' in text
    assert 'appkeeper_notifications_given_up_total{channel="teams"} 2.0' in text
    assert 'appkeeper_notifications_pending{channel="slack"} 0.0' in text
    assert 'appkeeper_integration_alerts_open{code="teams_webhook"} 5.0' in text
    assert 'appkeeper_integration_alerts_open{code="slack_auth"} 0.0' in text
    _fill(TeamFactory(slug="more"), 30)
    many, text = _scrape(client)
    assert many == few
    assert 'appkeeper_notifications_given_up_total{channel="teams"} 12.0' in text
    with django_assert_num_queries(2):
        list(health.outbox_families())


def test_an_expired_app_says_no_days_are_left(app):
    MicroApp.objects.filter(pk=app.pk).update(expires_at=timezone.now() - timedelta(hours=1))
    app.refresh_from_db()
    content = card(team_note(app, kind="app_expired", key="e:1"))
    facts = {f["title"]: f["value"] for f in content["body"][1]["facts"]}
    assert facts["Days left"] == "none: past"


def test_a_personal_notice_without_a_recipient_id_is_not_copied_to_the_team(app):
    stray = Notification(app=app, kind="k", subject="s", body="b", dedupe_key="p:owner")
    assert team_chat_copies([stray]) == []
    hook = Notification(
        app=app, kind="k", subject="s", body="b", dedupe_key="p:webhook", channel="webhook"
    )
    assert [c.dedupe_key for c in team_chat_copies([hook])] == ["p:teams"]
