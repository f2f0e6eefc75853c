"""Sunset cases protect the apps that depend on the app going away: their owners hear when
a case opens, an unanswered case is escalated to the platform team instead of retiring
the app, and retiring it (accepting or deciding) names each live app that calls it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.urls import reverse

from catalog.choices import AppState
from catalog.models import AuditEvent, Notification
from lifecycle import services
from lifecycle.choices import NoticeKind, SunsetOutcome, SunsetReason, SunsetStatus
from lifecycle.models import SunsetCase
from tests.factories import MicroAppFactory
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 6, 10, 9, 0, tzinfo=UTC)
AFTER_GRACE = NOW + timedelta(days=14, hours=1)


@pytest.fixture
def world(alice, bob, carol, support_tools, field_ops):
    """Billing (alice's, unused for a quarter) is called by two of carol's apps and one of
    bob's; a draft and a retired app call it too, and do not count."""
    with time_machine.travel(NOW, tick=False):
        billing = live_app(
            team=support_tools,
            owner=alice,
            name="Billing",
            slug="billing",
            went_live_days_ago=120,
            days_left=50,
        )
        crm = live_app(team=field_ops, owner=carol, name="CRM", slug="crm", went_live_days_ago=5)
        reports = live_app(
            team=field_ops, owner=carol, name="Reports", slug="reports", went_live_days_ago=5
        )
        portal = live_app(
            team=support_tools,
            owner=bob,
            name="Portal",
            slug="portal",
            went_live_days_ago=5,
            state=AppState.EXPIRED,
        )
        sketch = MicroAppFactory(team=field_ops, owner=carol, slug="sketch", state=AppState.DRAFT)
        gone = MicroAppFactory(team=field_ops, owner=carol, slug="gone", state=AppState.RETIRED)
        for app in (crm, reports, portal, sketch, gone):
            app.depends_on.add(billing)
    return {"billing": billing, "crm": crm, "reports": reports, "portal": portal}


def open_case(now=NOW) -> SunsetCase:
    with time_machine.travel(now, tick=False):
        assert services.sunset_cases_open(now=now) == 1
    return SunsetCase.objects.get(app__slug="billing")


def dependency_notices():
    return Notification.objects.filter(kind=NoticeKind.DEPENDENCY_SUNSET)


# --- opening a case ------------------------------------------------------------------------


def test_opening_a_case_tells_each_dependent_owner_once_with_the_grace_end_and_a_link(
    world, alice, bob, carol, field_ops, support_tools
):
    case = open_case()

    notes = dependency_notices()
    # One per owner (carol's two apps in one notice), one per team contact address.
    assert sorted(n.recipient.username for n in notes if n.recipient_id) == ["bob", "carol"]
    assert sorted(n.team.slug for n in notes if n.team_id) == ["field-ops", "support-tools"]
    to_carol = notes.get(recipient=carol)
    assert "CRM, Reports call Billing" in to_carol.body
    assert "24 Jun 2026 09:00 UTC" in to_carol.body  # the grace end
    assert to_carol.link == "/apps/billing/#lifecycle" and to_carol.app == world["billing"]
    assert case.grace_ends_at == NOW + timedelta(days=14)
    assert "Portal calls Billing" in notes.get(recipient=bob).body
    # The owner is told it will not be retired unanswered, and why.
    owner_note = Notification.objects.get(kind=NoticeKind.SUNSET_NOTICE, recipient=alice)
    assert "not retired without an answer" in owner_note.body and "CRM" in owner_note.body

    with time_machine.travel(NOW + timedelta(hours=1), tick=False):
        assert services.sunset_cases_open(now=NOW + timedelta(hours=1)) == 0
    assert dependency_notices().count() == notes.count() == 4


def test_an_expired_app_sunset_after_its_grace_warns_its_dependents_too(world, carol):
    billing = world["billing"]
    billing.state, billing.expires_at = AppState.EXPIRED, NOW - timedelta(days=31)
    billing.save()

    with time_machine.travel(NOW, tick=False):
        assert services.apps_expire(now=NOW).sunsetting == 1

    case = SunsetCase.objects.get(app=billing)
    assert case.reason == SunsetReason.EXPIRED
    note = dependency_notices().get(recipient=carol)
    assert "expired" in note.body and "24 Jun 2026" in note.body


def test_an_app_nobody_calls_warns_nobody_else(alice, support_tools):
    with time_machine.travel(NOW, tick=False):
        live_app(team=support_tools, owner=alice, went_live_days_ago=120, days_left=50)
        assert services.sunset_cases_open(now=NOW) == 1
    assert not dependency_notices().exists()


# --- the hourly close job ------------------------------------------------------------------


def test_an_unanswered_case_of_an_app_others_call_goes_to_the_platform_team(
    world, alice, pat, support_tools
):
    case = open_case()
    with time_machine.travel(NOW, tick=False):
        lonely = live_app(team=support_tools, owner=alice, slug="lonely", state="sunsetting")
        SunsetCase.objects.create(app=lonely, reason="low_usage", grace_ends_at=NOW)

    with time_machine.travel(AFTER_GRACE, tick=False):
        assert services.sunset_cases_close(now=AFTER_GRACE) == 1  # only the lonely app

    billing, lonely = world["billing"], lonely
    billing.refresh_from_db()
    lonely.refresh_from_db()
    case.refresh_from_db()
    assert lonely.state == AppState.RETIRED
    assert billing.state == AppState.SUNSETTING and billing.retired_at is None
    assert case.escalated_at == AFTER_GRACE and case.closed_at is None
    assert case.status == SunsetStatus.AWAITING_DECISION and case.can_decide
    event = AuditEvent.objects.get(action="sunset_escalated")
    assert event.app == billing and event.actor is None
    assert event.data == {"sunset_case": case.pk, "dependents": ["crm", "portal", "reports"]}
    to_pat = Notification.objects.get(kind=NoticeKind.SUNSET_ESCALATED, recipient=pat)
    assert "- CRM (crm): Field Ops, owner carol, active" in to_pat.body
    assert "- Portal (portal): Support Tools, owner bob, expired" in to_pat.body
    assert to_pat.link == "/apps/billing/#lifecycle"
    assert Notification.objects.filter(kind=NoticeKind.SUNSET_ESCALATED, recipient=alice).exists()

    # Every later run leaves the escalated case alone: no second notice, no second event.
    notices = Notification.objects.count()
    for hours in (1, 2, 48):
        later = AFTER_GRACE + timedelta(hours=hours)
        with time_machine.travel(later, tick=False):
            assert services.sunset_cases_close(now=later) == 0
    assert Notification.objects.count() == notices
    assert AuditEvent.objects.filter(action="sunset_escalated").count() == 1
    billing.refresh_from_db()
    assert billing.state == AppState.SUNSETTING


def test_drafts_and_retired_callers_do_not_hold_an_app_back(alice, carol, support_tools, field_ops):
    with time_machine.travel(NOW, tick=False):
        app = live_app(team=support_tools, owner=alice, state="sunsetting")
        for state in (AppState.DRAFT, AppState.RETIRED):
            MicroAppFactory(team=field_ops, owner=carol, state=state).depends_on.add(app)
        case = SunsetCase.objects.create(app=app, reason="low_usage", grace_ends_at=NOW)
    with time_machine.travel(AFTER_GRACE, tick=False):
        assert services.sunset_cases_close(now=AFTER_GRACE) == 1
    case.refresh_from_db()
    assert case.outcome == SunsetOutcome.RETIRED and case.escalated_at is None


def test_an_app_called_only_by_apps_retired_in_the_same_run_is_retired_with_them(
    alice, support_tools
):
    with time_machine.travel(NOW, tick=False):
        provider = live_app(team=support_tools, owner=alice, state="sunsetting")
        caller = live_app(team=support_tools, owner=alice, state="sunsetting")
        caller.depends_on.add(provider)
        for app in (provider, caller):
            SunsetCase.objects.create(app=app, reason="low_usage", grace_ends_at=NOW)
    with time_machine.travel(AFTER_GRACE, tick=False):
        assert services.sunset_cases_close(now=AFTER_GRACE) == 2
    assert not SunsetCase.objects.filter(escalated_at__isnull=False).exists()


@pytest.mark.parametrize("size", [3, 20])
def test_the_close_job_stays_query_flat_while_escalating(
    size, alice, carol, pat, support_tools, field_ops, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        for _ in range(size):
            provider = live_app(team=support_tools, owner=alice, state="sunsetting")
            for _ in range(2):
                live_app(team=field_ops, owner=carol).depends_on.add(provider)
            SunsetCase.objects.create(app=provider, reason="low_usage", grace_ends_at=NOW)
            lonely = live_app(team=support_tools, owner=alice, state="sunsetting")
            SunsetCase.objects.create(app=lonely, reason="low_usage", grace_ends_at=NOW)
    # The locked cases, the dependents of all of them at once, the escalation (mark,
    # audit, platform team), the retirement (update, audit), closing, the outbox (11;
    # SQLite splits the larger outbox insert at its variable limit).
    with (
        time_machine.travel(AFTER_GRACE, tick=False),
        django_assert_max_num_queries(13),
    ):
        assert services.sunset_cases_close(now=AFTER_GRACE) == size
    assert SunsetCase.objects.filter(escalated_at__isnull=False).count() == size
    assert Notification.objects.filter(kind=NoticeKind.SUNSET_ESCALATED, recipient=pat).count() == (
        size
    )


# --- accepting and deciding name the dependents ----------------------------------------------


@time_machine.travel(NOW + timedelta(days=1), tick=False)
def test_accepting_over_the_api_names_every_live_dependent(world, api_as, alice):
    case = open_case()
    client = api_as(alice)
    url = f"/api/v1/sunset-cases/{case.pk}/respond/"

    refused = client.post(url, {"response": "accept"}, format="json")
    assert refused.status_code == 409
    body = refused.json()
    assert body["code"] == "dependents_not_confirmed"
    assert [d["slug"] for d in body["dependents"]] == ["crm", "portal", "reports"]
    assert body["dependents"][0] == {
        "slug": "crm",
        "name": "CRM",
        "state": "active",
        "team": "field-ops",
        "owner": "carol",
    }
    partial = client.post(
        url, {"response": "accept", "confirm_dependents": ["crm", "portal"]}, format="json"
    )
    assert partial.status_code == 409
    case.refresh_from_db()
    assert case.is_open and not case.response  # nothing half-written

    accepted = client.post(
        url,
        {"response": "accept", "confirm_dependents": ["reports", "crm", "portal"]},
        format="json",
    )
    assert accepted.status_code == 200, accepted.json()
    assert accepted.json()["outcome"] == "retired"
    event = world["billing"].audit_events.get(action="retired")
    assert event.data == {"confirmed_dependents": ["crm", "portal", "reports"]}
    told = Notification.objects.filter(kind="dependency_retired", recipient__isnull=False)
    assert sorted(n.recipient.username for n in told) == ["bob", "carol"]


@time_machine.travel(NOW + timedelta(days=1), tick=False)
def test_contesting_needs_no_confirmation(world, api_as, alice):
    case = open_case()
    response = api_as(alice).post(
        f"/api/v1/sunset-cases/{case.pk}/respond/",
        {"response": "contest", "justification": "Finance still closes the quarter with it."},
        format="json",
    )
    assert response.status_code == 200 and response.json()["status"] == "awaiting_decision"


def test_the_platform_decides_an_escalated_case_naming_the_dependents(world, api_as, pat):
    case = open_case()
    with time_machine.travel(AFTER_GRACE, tick=False):
        services.sunset_cases_close(now=AFTER_GRACE)
    client = api_as(pat)
    url = f"/api/v1/sunset-cases/{case.pk}/decide/"

    refused = client.post(url, {"decision": "retire"}, format="json")
    assert refused.status_code == 409 and refused.json()["code"] == "dependents_not_confirmed"
    world["billing"].refresh_from_db()
    assert world["billing"].state == AppState.SUNSETTING

    decided = client.post(
        url,
        {"decision": "retire", "confirm_dependents": ["crm", "portal", "reports"]},
        format="json",
    )
    assert decided.status_code == 200, decided.json()
    assert decided.json()["outcome"] == "retired"
    event = world["billing"].audit_events.get(action="retired")
    assert "retirement decided by the platform team" in event.comment
    assert event.actor == pat


def test_upholding_an_escalated_case_needs_no_confirmation(world, api_as, pat):
    case = open_case()
    with time_machine.travel(AFTER_GRACE, tick=False):
        services.sunset_cases_close(now=AFTER_GRACE)
        response = api_as(pat).post(
            f"/api/v1/sunset-cases/{case.pk}/decide/", {"decision": "uphold"}, format="json"
        )
    assert response.status_code == 200 and response.json()["outcome"] == "reactivated"


# --- the pages -----------------------------------------------------------------------------


def test_the_case_page_lists_the_dependents_and_asks_to_tick_each_to_accept(world, client, alice):
    case = open_case()
    client.force_login(alice)
    url = reverse("lifecycle:sunset-respond", args=[case.pk])

    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        page = client.get(url).content.decode()
        assert "Apps that depend on Billing" in page
        for name in ("CRM", "Reports", "Portal"):
            assert f">{name}</a>" in page
        assert 'name="confirm_dependents" value="crm"' in page
        assert "sketch" not in page and "gone" not in page

        refused = client.post(url, {"response": "accept", "confirm_dependents": ["crm"]})
        html = refused.content.decode()
        assert refused.status_code == 400
        assert 'aria-invalid="true"' in html and 'id="sunset-answer-dependents-error"' in html
        assert "Tick each app that calls it" in html and "Portal, Reports" in html
        assert 'value="crm" id="sunset-answer-confirm-crm" checked' in html  # kept
        world["billing"].refresh_from_db()
        assert world["billing"].state == AppState.SUNSETTING

        done = client.post(
            url, {"response": "accept", "confirm_dependents": ["crm", "reports", "portal"]}
        )
    assert done.status_code == 302
    world["billing"].refresh_from_db()
    assert world["billing"].state == AppState.RETIRED


def test_a_refused_platform_decision_comes_back_with_the_error_inline(world, client, pat):
    case = open_case()
    with time_machine.travel(AFTER_GRACE, tick=False):
        services.sunset_cases_close(now=AFTER_GRACE)
    client.force_login(pat)
    url = reverse("lifecycle:sunset-decide", args=[case.pk])

    refused = client.post(url, {"decision": "retire", "comment": "Unused since spring."})
    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'id="sunset-decide-dependents-error"' in html and "CRM, Portal, Reports" in html
    assert "Unused since spring." in html  # what was typed is kept
    assert "Nobody answered, and live apps call Billing" in html

    done = client.post(
        url, {"decision": "retire", "confirm_dependents": ["crm", "reports", "portal"]}
    )
    assert done.status_code == 302
    case.refresh_from_db()
    assert case.outcome == SunsetOutcome.RETIRED


def test_the_app_page_panel_names_the_dependents_of_an_open_case(world, client, alice):
    open_case()
    client.force_login(alice)
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        html = client.get(world["billing"].get_absolute_url()).content.decode()
    assert "Called by 3 live apps" in html
    assert "Without an answer it is not retired: the platform team decides." in html
    assert 'name="confirm_dependents" value="portal"' in html


@pytest.mark.parametrize("size", [2, 12])
def test_the_case_list_shows_each_apps_dependents_in_a_flat_number_of_queries(
    size, client, pat, alice, carol, support_tools, field_ops, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        for i in range(size):
            app = live_app(team=support_tools, owner=alice, state="sunsetting", name=f"Old {i}")
            live_app(team=field_ops, owner=carol, name=f"Caller {i}").depends_on.add(app)
            SunsetCase.objects.create(app=app, reason="low_usage", grace_ends_at=NOW)
    client.force_login(pat)
    url = reverse("lifecycle:sunset-cases")
    client.get(url)
    with django_assert_max_num_queries(6):
        html = client.get(url).content.decode()
    assert html.count("(active)") == size and "Caller 1" in html


@pytest.mark.parametrize("size", [2, 12])
def test_the_case_page_stays_query_flat(
    size, world, client, alice, carol, field_ops, django_assert_max_num_queries
):
    case = open_case()
    with time_machine.travel(NOW, tick=False):
        for _ in range(size):
            live_app(team=field_ops, owner=carol).depends_on.add(world["billing"])
    client.force_login(alice)
    url = reverse("lifecycle:sunset-respond", args=[case.pk])
    client.get(url)
    with time_machine.travel(NOW + timedelta(days=1)), django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_an_escalated_case_is_listed_as_awaiting_the_platform(world, api_as, pat, client):
    case = open_case()
    with time_machine.travel(AFTER_GRACE, tick=False):
        services.sunset_cases_close(now=AFTER_GRACE)
    api = api_as(pat)

    waiting = api.get("/api/v1/sunset-cases/", {"status": "awaiting_decision"}).json()
    assert [c["id"] for c in waiting["results"]] == [case.pk]
    assert waiting["results"][0]["escalated_at"] is not None
    owner = api.get("/api/v1/sunset-cases/", {"status": "awaiting_owner"}).json()
    assert owner["results"] == []

    client.force_login(pat)
    todo = client.get("/").content.decode()
    assert "Sunset cases to decide" in todo and "other apps depend on it" in todo
