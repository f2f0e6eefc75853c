"""The go-live gate: every condition, both outcomes, the 409 checklist and the app page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from catalog import gate
from catalog.models import AuditEvent, MicroApp, Notification, Review
from tests.catalog.review_support import add_contract, pii_app, ready_app

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)


def submit(client, app):
    return client.post(f"/api/v1/apps/{app.slug}/submit/", format="json")


def checklist(body: dict) -> dict[str, bool]:
    return {item["key"]: item["ok"] for item in body["checklist"]}


# The gate's checks, in the order the checklist lists them.
CHECKS = ["owner", "sla", "contract", "policies", "heartbeat"]


def all_ok_but(failing: str) -> dict[str, bool]:
    """The checklist in which every check passes except ``failing``."""
    return {key: key != failing for key in CHECKS}


# --- outcomes ------------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_low_risk_app_that_passes_goes_live_with_an_expiry(api_as, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice)

    response = submit(api_as(alice), app)

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "active"
    app.refresh_from_db()
    assert app.went_live_at == NOW
    assert app.expires_at == NOW + timedelta(days=90)
    assert not Review.objects.exists()
    event = app.audit_events.get(action="activated")
    assert event.actor == alice and event.changes["state"] == ["draft", "active"]


@time_machine.travel(NOW, tick=False)
def test_a_high_risk_app_goes_to_review_due_in_48_hours_and_the_platform_team_hears(
    api_as, alice, pat, support_tools, regions
):
    app = pii_app(team=support_tools, owner=alice, regions=regions)

    response = submit(api_as(alice), app)

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "in_review"
    review = Review.objects.get(app=app)
    assert review.requested_by == alice
    assert review.due_at == NOW + timedelta(hours=48)
    assert review.is_open
    note = Notification.objects.get(kind="review_requested")
    assert note.recipient == pat and note.app == app
    assert note.link == f"/reviews/{review.pk}/"
    assert app.audit_events.filter(action="submitted", actor=alice).exists()
    assert app.audit_events.get(action="submitted").changes["state"] == ["draft", "in_review"]


@pytest.mark.parametrize(
    "risk",
    [
        {"handles_payment_data": True},
        {"externally_exposed": True, "runbook_url": "https://runbooks.example.com/x"},
    ],
)
def test_payment_and_exposed_apps_are_high_risk_too(api_as, alice, support_tools, regions, risk):
    app = ready_app(team=support_tools, owner=alice, regions=[regions["eu-central"]], **risk)

    assert submit(api_as(alice), app).json()["state"] == "in_review"


# --- each condition ------------------------------------------------------------------------


def test_a_draft_without_sla_is_refused_with_the_checklist(api_as, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice, sla_support_hours="")

    response = submit(api_as(alice), app)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "gate_failed"
    assert body["passed"] is False
    assert "SLA declared" in body["detail"]
    assert checklist(body) == all_ok_but("sla")
    app.refresh_from_db()
    assert app.state == "draft"
    assert not app.audit_events.exclude(action="created").exists()


def test_a_draft_without_a_contract_is_refused(api_as, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice, contract=False)

    body = submit(api_as(alice), app).json()

    assert checklist(body)["contract"] is False
    assert body["checklist"][2]["detail"] == "Upload a contract that validates."


def test_only_the_latest_contract_version_counts(api_as, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice)
    add_contract(app, valid=False)

    assert checklist(submit(api_as(alice), app).json())["contract"] is False


def test_an_owner_who_left_fails_the_owner_check(api_as, alice, bob, support_tools):
    app = ready_app(team=support_tools, owner=bob)
    bob.is_active = False
    bob.save()

    body = submit(api_as(alice), app).json()

    assert checklist(body)["owner"] is False
    assert checklist(body)["policies"] is False  # owner-required blocks too
    assert body["findings"][0]["rule"] == "owner-required"


def test_a_block_finding_fails_the_gate(api_as, alice, support_tools, regions):
    app = ready_app(
        team=support_tools, owner=alice, handles_payment_data=True, regions=[regions["uk-south"]]
    )

    body = submit(api_as(alice), app).json()

    assert checklist(body)["policies"] is False
    assert "PCI" in body["checklist"][3]["detail"]


def test_a_warning_alone_does_not_fail_the_gate(api_as, alice, support_tools, regions):
    app = ready_app(
        team=support_tools,
        owner=alice,
        handles_pii=True,
        data_residency="EU",
        regions=[regions["eu-central"]],
    )

    response = submit(api_as(alice), app)

    assert response.status_code == 200
    assert response.json()["state"] == "in_review"


@time_machine.travel(NOW, tick=False)
@pytest.mark.parametrize(
    ("last_seen", "ok"),
    [
        (None, False),
        (timedelta(hours=25), False),
        (timedelta(hours=24), True),
        (timedelta(minutes=5), True),
    ],
)
def test_production_needs_a_heartbeat_within_24_hours(api_as, alice, support_tools, last_seen, ok):
    app = ready_app(
        team=support_tools,
        owner=alice,
        environment="production",
        last_seen_at=None if last_seen is None else NOW - last_seen,
    )

    response = submit(api_as(alice), app)

    assert response.status_code == (200 if ok else 409)
    if not ok:
        assert checklist(response.json()) == all_ok_but("heartbeat")


def test_outside_production_no_heartbeat_is_needed(api_as, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice, environment="staging", last_seen_at=None)

    result = gate.check(app)

    heartbeat = result.checks[-1]
    assert result.passed and heartbeat.ok and heartbeat.required is False
    assert submit(api_as(alice), app).status_code == 200


# --- who and when --------------------------------------------------------------------------


def test_only_drafts_can_be_submitted(api_as, alice, support_tools, regions):
    app = pii_app(team=support_tools, owner=alice, regions=regions)
    client = api_as(alice)
    assert submit(client, app).status_code == 200

    again = submit(client, app)

    assert again.status_code == 409
    assert "in review" in again.json()["detail"]
    assert Review.objects.filter(app=app).count() == 1


def test_another_team_cannot_submit_my_app_but_the_platform_team_can(
    api_as, alice, carol, pat, support_tools
):
    app = ready_app(team=support_tools, owner=alice, state="active")
    draft = ready_app(team=support_tools, owner=alice)

    assert submit(api_as(carol), app).status_code == 403
    assert submit(api_as(carol), draft).status_code == 404  # drafts are private
    assert submit(api_as(pat), draft).status_code == 200


def test_the_checklist_is_readable_over_the_api_at_any_time(api_as, alice, bob, support_tools):
    app = ready_app(team=support_tools, owner=alice, contract=False)

    body = api_as(bob).get(f"/api/v1/apps/{app.slug}/gate/").json()

    assert body["passed"] is False
    assert [c["key"] for c in body["checklist"]] == CHECKS


# --- the app page --------------------------------------------------------------------------


def test_the_app_page_shows_the_ticked_checklist_and_a_submit_button(client, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice, contract=False)
    client.force_login(alice)

    html = client.get(app.get_absolute_url()).content.decode()

    assert "Go-live checklist" in html
    assert 'data-check="contract"' in html and "checklist__item--missing" in html
    assert 'data-check="sla"' in html and "checklist__item--ok" in html
    assert f'action="/apps/{app.slug}/submit/"' in html


def test_the_submit_button_reports_what_is_missing_or_takes_the_app_live(
    client, alice, support_tools
):
    app = ready_app(team=support_tools, owner=alice, contract=False)
    client.force_login(alice)

    refused = client.post(f"/apps/{app.slug}/submit/", follow=True)
    assert "Not ready to go live yet: a valid api contract." in refused.content.decode()

    add_contract(app)
    done = client.post(f"/apps/{app.slug}/submit/", follow=True)
    assert "passed the go-live gate and is live" in done.content.decode()
    assert MicroApp.objects.get(pk=app.pk).state == "active"


def test_the_submit_button_is_for_owners_only(client, carol, alice, support_tools):
    app = ready_app(team=support_tools, owner=alice, state="active")
    client.force_login(carol)

    assert client.post(f"/apps/{app.slug}/submit/").status_code == 403
    html = client.get(app.get_absolute_url()).content.decode()
    assert f'action="/apps/{app.slug}/submit/"' not in html


def test_a_failed_submit_writes_nothing(api_as, alice, pat, support_tools, regions):
    app = pii_app(team=support_tools, owner=alice, regions=regions, contract=False)

    submit(api_as(alice), app)

    assert not Review.objects.exists()
    assert not Notification.objects.exists()
    assert list(AuditEvent.objects.values_list("action", flat=True)) == []
