"""Team-owned apps (``owner`` None): the team answers for them. Pages name the team, the API
takes and shows a null owner, the owner's notices reach the co-owners, else the team lead,
else the team contact, and handovers, transfers, reviews and the jobs cope with them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog import notifications, services
from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp, Notification, Review
from catalog.retirement import dependent_owner_notices
from identity import people
from identity.models import DeactivatedVia
from lifecycle import services as lifecycle
from lifecycle.models import UsageReport
from scorecards.periods import parse_quarter
from scorecards.scoring import score_one
from tests.catalog.review_support import pii_app
from tests.factories import MicroAppFactory, TeamFactory, UserFactory
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db

URL = "/api/v1/apps/"
SHOWN = "Team-owned (Support Tools)"


@pytest.fixture
def team_app(support_tools):
    return MicroAppFactory(
        owner=None, team=support_tools, slug="shared", name="Shared", state=AppState.ACTIVE
    )


def body(**overrides) -> dict:
    data = {
        "slug": "router",
        "name": "Router",
        "description": "Routes tickets by language.",
        "kind": "integration",
        "team": "support-tools",
        "contact": "#support-tools",
        "runtime": "aws-lambda",
        "environment": "staging",
        "criticality": "standard",
        "sla_availability": "99.9",
        "sla_p95_ms": 300,
        "sla_support_hours": "business",
    }
    data.update(overrides)
    return data


def rows(**filters) -> set[tuple]:
    return set(
        Notification.objects.filter(**filters).values_list("recipient__username", "team__slug")
    )


# --- the API ---------------------------------------------------------------------------------


def test_an_explicit_null_owner_makes_the_app_team_owned(api_as, alice):
    response = api_as(alice).post(URL, body(owner=None), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] is None
    assert MicroApp.objects.get(slug="router").owner_id is None
    assert api_as(alice).get(f"{URL}router/").json()["owner"] is None


def test_an_omitted_owner_still_defaults_to_the_requester(api_as, alice):
    response = api_as(alice).post(URL, body(), format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["owner"] == "alice"


def test_an_update_hands_an_app_to_its_team_and_back(api_as, alice, bob):
    client = api_as(alice)
    assert client.post(URL, body(), format="json").status_code == 201
    response = client.patch(f"{URL}router/", {"owner": None}, format="json")
    assert response.status_code == 200, response.json()
    assert response.json()["owner"] is None
    event = AuditEvent.objects.filter(app__slug="router", action="updated").latest("pk")
    assert event.changes["owner"] == ["alice", None]
    response = client.patch(f"{URL}router/", {"owner": "bob"}, format="json")
    assert response.status_code == 200 and response.json()["owner"] == "bob"


def test_a_deactivated_owner_is_still_refused(api_as, alice):
    gone = UserFactory(username="gone", is_active=False)
    response = api_as(alice).post(URL, body(owner=gone.username), format="json")
    assert response.status_code == 400
    assert response.json()["owner"] == ["gone is deactivated."]


def test_the_list_filters_team_owned_apps(api_as, alice, team_app, support_tools):
    MicroAppFactory(owner=alice, team=support_tools, slug="mine")
    client = api_as(alice)
    slugs = {a["slug"] for a in client.get(URL, {"team_owned": "true"}).json()["results"]}
    assert slugs == {"shared"}
    slugs = {a["slug"] for a in client.get(URL, {"team_owned": "false"}).json()["results"]}
    assert slugs == {"mine"}


def test_the_schema_says_the_owner_may_be_null(api_as, alice):
    schema = api_as(alice).get("/api/schema/", {"format": "json"}).json()
    owner = schema["components"]["schemas"]["MicroApp"]["properties"]["owner"]
    assert owner.get("nullable") is True


# --- pages -----------------------------------------------------------------------------------


def test_pages_name_the_team_as_owner(client, alice, team_app, support_tools):
    team_app.expires_at = timezone.now() + timedelta(days=5)  # on the dashboard's list
    team_app.save()
    client.force_login(alice)
    for url in ("/apps/shared/", "/apps/", f"/teams/{support_tools.slug}/", "/"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert SHOWN in response.content.decode(), url


def test_the_form_offers_no_personal_owner(client, alice, team_app):
    client.force_login(alice)
    page = client.get("/apps/shared/edit/").content.decode()
    assert "No personal owner (the team)" in page


# --- notifications ---------------------------------------------------------------------------


def notify(app):
    return notifications.notify_owners(
        app=app, kind="x", subject="s", body="b", dedupe_key=f"k:{app.pk}"
    )


def test_co_owners_read_a_team_owned_apps_notices(team_app, bob):
    team_app.co_owners.add(bob)
    notify(team_app)
    assert rows() == {("bob", None)}


def test_without_co_owners_the_team_lead_reads_them(team_app, support_tools, carol):
    support_tools.lead = carol
    support_tools.save()
    notify(team_app)
    assert rows() == {("carol", None)}


def test_without_a_lead_the_team_contact_reads_them(team_app):
    notify(team_app)
    note = Notification.objects.get()
    assert note.team_id == team_app.team_id and note.recipient_id is None
    assert notifications.email_address(note) == "support-tools@example.com"


def test_a_deactivated_leads_copy_goes_to_the_team_contact(team_app, support_tools, carol):
    support_tools.lead = carol
    support_tools.save()
    notify(team_app)
    carol.is_active = False
    carol.save()
    note = Notification.objects.get()
    assert notifications.email_address(note) == "support-tools@example.com"


def test_dependents_notices_go_to_the_lead_of_a_team_owned_dependent(team_app, alice, carol):
    other = TeamFactory(slug="other", contact_email="", lead=carol)
    calling = MicroAppFactory(owner=None, team=other, state=AppState.ACTIVE)
    owned = MicroAppFactory(owner=alice, team=other, state=AppState.ACTIVE)
    notes = dependent_owner_notices(
        provider=team_app,
        dependents=[calling, owned],
        kind="x",
        message=lambda apps: ("s", ", ".join(a.slug for a in apps)),
        dedupe_key="d",
    )
    assert {(n.recipient_id, n.body) for n in notes} == {
        (carol.pk, calling.slug),
        (alice.pk, owned.slug),
    }


@pytest.mark.parametrize("size", [3, 25])
def test_the_reminders_job_keeps_its_budget_with_team_owned_apps(
    size, support_tools, alice, carol, django_assert_max_num_queries
):
    support_tools.lead = carol
    support_tools.save()
    # As many apps as the owned-only budget test, every other one team-owned.
    for index in range(size):
        live_app(team=support_tools, owner=None if index % 2 else alice, days_left=10)
    with django_assert_max_num_queries(7):
        assert lifecycle.reminders_send() == size
    assert Notification.objects.filter(recipient=carol).count() == size // 2
    assert Notification.objects.filter(recipient=alice).count() == size - size // 2


def test_an_overdue_team_owned_app_is_told_once(support_tools, alice):
    live_app(team=support_tools, owner=None, days_left=-1, criticality="critical")
    live_app(team=support_tools, owner=alice, days_left=-1, criticality="critical")
    now = timezone.now()
    first = lifecycle.apps_expire(now=now)
    assert first.recertification_overdue == 2
    again = lifecycle.apps_expire(now=now + timedelta(hours=1))
    assert again.recertification_overdue == 0


# --- reviews, handovers, transfers -----------------------------------------------------------


def test_a_team_owned_app_goes_through_review_and_its_lead_hears(
    api_as, pat, support_tools, carol, regions
):
    support_tools.lead = carol
    support_tools.save()
    app = pii_app(team=support_tools, owner=None, regions=regions, name="Shared PII")
    services.app_submit(app=app, actor=carol)
    review = Review.objects.get(app=app)
    response = api_as(pat).post(
        f"/api/v1/reviews/{review.pk}/decide/", {"decision": "approved"}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert Notification.objects.get(kind="review_approved").recipient == carol


def test_a_platform_member_of_the_team_may_not_decide_its_review(
    api_as, pat, support_tools, regions
):
    support_tools.members.add(pat)
    app = pii_app(team=support_tools, owner=None, regions=regions, name="Shared PII")
    services.app_submit(app=app, actor=pat)
    review = Review.objects.get(app=app)
    response = api_as(pat).post(
        f"/api/v1/reviews/{review.pk}/decide/", {"decision": "approved"}, format="json"
    )
    assert response.status_code == 403


def test_a_leaver_hands_over_only_their_own_apps(team_app, alice, support_tools):
    own = MicroAppFactory(owner=alice, team=support_tools, state=AppState.ACTIVE)
    people.deactivate(alice, actor=None, via=DeactivatedVia.SCIM)
    team_app.refresh_from_db()
    own.refresh_from_db()
    assert team_app.owner_id is None and team_app.orphaned_at is None
    assert own.orphaned_at is not None
    assert not MicroApp.objects.filter(orphaned_at__isnull=False, owner=None).exists()


def test_a_team_owned_app_moves_to_a_person(api_as, pat, bob, team_app):
    response = api_as(pat).post(
        "/api/v1/apps/transfer/",
        {"apps": ["shared"], "to": "bob", "reason": "Bob runs it now"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["moved"][0]["from"] is None
    team_app.refresh_from_db()
    assert team_app.owner == bob
    event = AuditEvent.objects.get(app=team_app, action="owner_transferred")
    assert event.data["from"] is None and event.data["to"] == "bob"
    assert rows(kind="owner_transferred") >= {("bob", None), (None, "support-tools")}


# --- scorecards --------------------------------------------------------------------------------


def test_responsiveness_counts_each_notice_once_and_team_actions_answer_it(
    support_tools, alice, bob
):
    quarter = parse_quarter("2026-Q3")
    sent = datetime(2026, 8, 3, 9, 0, tzinfo=UTC)
    app = MicroAppFactory(owner=None, team=support_tools, state=AppState.ACTIVE)
    app.co_owners.add(bob)
    support_tools.webhook_url = "https://hooks.example.com/x"
    support_tools.save()
    with time_machine.travel(sent, tick=False):
        assert len(notify_kind(app, "expiry_reminder")) == 2  # bob and the webhook
    with time_machine.travel(sent + timedelta(hours=4), tick=False):
        AuditEvent.record(app=app, actor=alice, action="updated", changes={})
    with time_machine.travel(datetime(2026, 9, 1, tzinfo=UTC), tick=False):
        card = score_one(app, quarter)
    metrics = card.metrics["responsiveness"]
    assert metrics["notices"] == 1 and metrics["unanswered"] == 0
    assert metrics["median_hours"] == 4


def notify_kind(app, kind):
    return notifications.notify_owners(
        app=app, kind=kind, subject="s", body="b", dedupe_key=f"{kind}:{app.pk}"
    )


def test_the_review_page_names_the_team(client, pat, support_tools, regions):
    app = pii_app(team=support_tools, owner=None, regions=regions, name="Shared PII")
    services.app_submit(app=app, actor=pat)
    client.force_login(pat)
    response = client.get(f"/reviews/{Review.objects.get(app=app).pk}/")
    assert response.status_code == 200
    assert SHOWN in response.content.decode()


def test_the_cleanup_report_and_its_csv_cope_with_team_owned_apps(client, pat, support_tools):
    # Never seen by telemetry and no contract: the report lists it.
    MicroAppFactory(owner=None, team=support_tools, slug="idle", state=AppState.ACTIVE)
    client.force_login(pat)
    page = client.get("/scorecards/cleanup/")
    assert page.status_code == 200
    assert "idle" in page.content.decode() and "Team-owned" in page.content.decode()
    csv = client.get("/scorecards/cleanup/", {"format": "csv"})
    assert csv.status_code == 200
    line = next(row for row in csv.content.decode().splitlines() if ",idle," in row)
    assert line.startswith("support-tools,idle,App") and ",," in line and "None" not in line


@pytest.mark.parametrize("size", [3, 25])
def test_opening_sunset_cases_keeps_its_budget_with_team_owned_apps(
    size, support_tools, alice, regions, django_assert_max_num_queries
):
    apps = [
        live_app(
            team=support_tools,
            owner=None if index % 2 else alice,
            went_live_days_ago=120,
            days_left=50,
        )
        for index in range(size)
    ]
    UsageReport.objects.bulk_create(
        UsageReport(app=a, region=regions["eu-central"], date=timezone.now().date(), requests=5)
        for a in apps
    )
    with django_assert_max_num_queries(10):
        assert lifecycle.sunset_cases_open() == size
    told = {n.app_id for n in Notification.objects.filter(team=support_tools, recipient=None)}
    assert told >= {a.pk for a in apps if a.owner_id is None}
