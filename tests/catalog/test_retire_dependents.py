"""Retiring an app by hand while live apps call it, and what it leaves behind: each live
dependent must be named, and the apps left calling a retired app are flagged (derived,
never stored) on their page and go-live checklist until the dependency goes."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import AdminSite
from django.contrib.messages.storage.fallback import FallbackStorage
from django.urls import reverse

from catalog import gate, services
from catalog.admin import MicroAppAdmin
from catalog.choices import AppState
from catalog.models import MicroApp, Notification
from tests.catalog.review_support import ready_app
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def billing(alice, carol, bob, support_tools, field_ops):
    """Billing (alice's) is called by carol's CRM and bob's Portal; a draft and a retired app
    call it too and are never asked about."""
    app = MicroAppFactory(
        name="Billing", slug="billing", team=support_tools, owner=alice, state=AppState.ACTIVE
    )
    for name, slug, team, owner, state in (
        ("CRM", "crm", field_ops, carol, AppState.ACTIVE),
        ("Portal", "portal", support_tools, bob, AppState.IN_REVIEW),
        ("Sketch", "sketch", field_ops, carol, AppState.DRAFT),
        ("Gone", "gone", field_ops, carol, AppState.RETIRED),
    ):
        caller = MicroAppFactory(name=name, slug=slug, team=team, owner=owner, state=state)
        caller.depends_on.add(app)
    return app


def retire(client, app, **body):
    return client.post(f"/api/v1/apps/{app.slug}/retire/", {"reason": "Replaced.", **body}, "json")


# --- the API -------------------------------------------------------------------------------


def test_retiring_over_the_api_answers_409_with_the_dependents_to_confirm(billing, api_as, alice):
    response = retire(api_as(alice), billing)

    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "dependents_not_confirmed"
    assert "2 live apps call Billing: CRM (crm), Portal (portal)" in body["detail"]
    assert body["dependents"] == [
        {"slug": "crm", "name": "CRM", "state": "active", "team": "field-ops", "owner": "carol"},
        {
            "slug": "portal",
            "name": "Portal",
            "state": "in_review",
            "team": "support-tools",
            "owner": "bob",
        },
    ]
    billing.refresh_from_db()
    assert billing.state == AppState.ACTIVE and not billing.audit_events.exists()


@pytest.mark.parametrize(
    "confirmed",
    [["crm"], ["crm", "portal", "sketch"], ["crm", "portal", "billing"], []],
    ids=["one-missing", "a-draft-too", "one-too-many", "empty"],
)
def test_the_confirmation_must_name_exactly_the_live_dependents(billing, api_as, alice, confirmed):
    response = retire(api_as(alice), billing, confirm_dependents=confirmed)

    assert response.status_code == 409 and response.json()["code"] == "dependents_not_confirmed"
    billing.refresh_from_db()
    assert billing.state == AppState.ACTIVE


def test_a_confirmed_retirement_records_who_was_left_calling_it_and_tells_them(
    billing, api_as, alice, bob, carol
):
    response = retire(api_as(alice), billing, confirm_dependents=["portal", "crm"])

    assert response.status_code == 200, response.json()
    assert response.json()["state"] == "retired"
    event = billing.audit_events.get(action="retired")
    assert event.data == {"confirmed_dependents": ["crm", "portal"]}
    notes = Notification.objects.filter(kind="dependency_retired")
    assert sorted(n.recipient.username for n in notes if n.recipient_id) == ["bob", "carol"]
    to_carol = notes.get(recipient=carol)
    assert to_carol.subject == "Billing, which CRM calls, is retired"
    assert "Replaced." in to_carol.body and "Remove or replace the dependency" in to_carol.body
    assert to_carol.app == billing and to_carol.link == "/apps/billing/"
    assert "Portal" not in to_carol.body  # each hears about their own apps


def test_the_confirmation_is_a_list_of_slugs(billing, api_as, alice):
    response = retire(api_as(alice), billing, confirm_dependents="crm,portal")
    assert response.status_code == 400 and "confirm_dependents" in response.json()


def test_an_app_nobody_calls_is_retired_without_more_questions(api_as, alice, support_tools):
    app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.ACTIVE)
    assert retire(api_as(alice), app).status_code == 200


def test_only_those_who_may_retire_meet_the_question(billing, api_as, carol):
    assert retire(api_as(carol), billing, confirm_dependents=["crm", "portal"]).status_code == 403


# --- the page ------------------------------------------------------------------------------


def test_the_retire_page_lists_the_dependents_and_asks_to_tick_each(billing, client, alice):
    client.force_login(alice)
    url = reverse("app-retire", args=[billing.slug])

    page = client.get(url).content.decode()
    assert "2 live apps call Billing" in page
    assert 'name="confirm_dependents" value="crm"' in page
    assert 'name="confirm_dependents" value="portal"' in page
    assert "sketch" not in page and "Gone" not in page

    refused = client.post(url, {"reason": "Replaced by Ledger.", "confirm_dependents": ["crm"]})
    html = refused.content.decode()
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in html and 'id="retire-dependents-error"' in html
    assert 'aria-describedby="retire-dependents-help retire-dependents-error"' in html
    assert "Tick each app that calls it to confirm retiring it anyway: Portal." in html
    assert "Replaced by Ledger." in html  # kept
    billing.refresh_from_db()
    assert billing.state == AppState.ACTIVE

    done = client.post(
        url, {"reason": "Replaced by Ledger.", "confirm_dependents": ["crm", "portal"]}
    )
    assert done.status_code == 302 and done.url == billing.get_absolute_url()
    billing.refresh_from_db()
    assert billing.state == AppState.RETIRED and billing.retired_reason == "Replaced by Ledger."


def test_the_retire_page_needs_a_reason(client, alice, support_tools):
    app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.ACTIVE)
    client.force_login(alice)
    response = client.post(reverse("app-retire", args=[app.slug]), {"reason": ""})
    assert response.status_code == 400
    assert 'id="reason-error"' in response.content.decode()
    assert "No live app calls" in response.content.decode()


def test_the_app_page_links_to_the_retire_page_for_those_who_may(billing, client, alice, carol):
    url = reverse("app-retire", args=["billing"])
    client.force_login(alice)
    assert url in client.get("/apps/billing/").content.decode()
    client.force_login(carol)
    assert url not in client.get("/apps/billing/").content.decode()
    assert client.get(url).status_code == 403


@pytest.mark.parametrize("size", [2, 15])
def test_the_retire_page_stays_query_flat(
    size, billing, client, alice, field_ops, carol, django_assert_max_num_queries
):
    for _ in range(size):
        MicroAppFactory(team=field_ops, owner=carol, state=AppState.ACTIVE).depends_on.add(billing)
    client.force_login(alice)
    url = reverse("app-retire", args=[billing.slug])
    client.get(url)
    with django_assert_max_num_queries(8):
        assert client.get(url).status_code == 200


def test_the_admin_action_leaves_apps_others_call_and_says_so(billing, pat, rf, support_tools):
    unused = MicroAppFactory(team=support_tools, state=AppState.ACTIVE)
    request = rf.post("/admin/")
    request.user = pat
    request.session = {}
    request._messages = FallbackStorage(request)
    admin = MicroAppAdmin(MicroApp, AdminSite())

    admin.retire_selected(request, MicroApp.objects.filter(pk__in=[billing.pk, unused.pk]))

    billing.refresh_from_db()
    unused.refresh_from_db()
    assert billing.state == AppState.ACTIVE and unused.state == AppState.RETIRED
    said = [str(m) for m in request._messages]
    assert "Retired 1 app(s)." in said
    assert any("Not retired, because live apps call them: Billing" in m for m in said)


# --- what a retirement leaves behind ---------------------------------------------------------


def test_a_dependent_of_a_retired_app_fails_its_checklist_until_the_dependency_goes(
    api_as, alice, support_tools
):
    provider = MicroAppFactory(name="Legacy", team=support_tools, state=AppState.ACTIVE)
    draft = ready_app(team=support_tools, owner=alice)
    draft.depends_on.add(provider)
    client = api_as(alice)
    assert "dependencies" not in [c.key for c in gate.check(draft).checks]

    services.app_retire(app=provider, actor=alice, reason="Gone.", confirm_dependents=[])

    result = gate.check(draft)
    item = next(c for c in result.checks if c.key == "dependencies")
    assert not item.ok and item.required and not result.passed
    assert item.detail.startswith("Calls Legacy (retired ")
    refused = client.post(f"/api/v1/apps/{draft.slug}/submit/", format="json")
    assert refused.status_code == 409 and "Calls no retired app" in refused.json()["detail"]

    response = client.patch(f"/api/v1/apps/{draft.slug}/", {"depends_on": []}, format="json")
    assert response.status_code == 200, response.json()
    assert gate.check(draft).passed
    assert client.post(f"/api/v1/apps/{draft.slug}/submit/", format="json").status_code == 200


def test_the_dependents_page_flags_the_retired_app_it_still_calls(
    billing, client, carol, alice, api_as
):
    retire(api_as(alice), billing, confirm_dependents=["crm", "portal"])
    client.force_login(carol)

    html = client.get("/apps/crm/").content.decode()

    assert 'data-retired-dependency="billing"' in html and "On a retired app" in html
    assert "remove or replace this dependency" in html
    assert "Calls no retired app" in html  # the checklist item, with its detail
    # The retired app's own page does not flag itself.
    assert "data-retired-dependency" not in client.get("/apps/billing/").content.decode()


def test_a_rejected_app_tells_the_apps_already_calling_it(
    api_as, pat, alice, carol, field_ops, support_tools, regions
):
    from catalog.models import Review
    from tests.catalog.review_support import pii_app

    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Ticket Router")
    services.app_submit(app=app, actor=alice)
    MicroAppFactory(name="CRM", team=field_ops, owner=carol, state="active").depends_on.add(app)
    review = Review.objects.get(app=app)

    response = api_as(pat).post(
        f"/api/v1/reviews/{review.pk}/decide/",
        {"decision": "rejected", "comment": "Duplicates crm-sync."},
        format="json",
    )

    assert response.status_code == 200, response.json()
    note = Notification.objects.get(kind="dependency_retired", recipient=carol)
    assert note.subject == "Ticket Router, which CRM calls, is retired"
    assert "Duplicates crm-sync." in note.body
