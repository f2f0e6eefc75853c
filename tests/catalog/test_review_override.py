"""Approving past a failing go-live checklist: the review page shows what fails next to the
decision, and approving anyway needs an override reason, in the API and on the page alike,
recorded in the activation's audit event."""

from __future__ import annotations

import pytest

from catalog import services
from catalog.models import MicroApp, Review
from tests.catalog.review_support import add_contract, pii_app

pytestmark = pytest.mark.django_db


@pytest.fixture
def failing_review(alice, support_tools, regions):
    """In review, then the SLA was cleared and an invalid contract uploaded: SLA and
    contract are ✗ on the app's own checklist."""
    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Ticket Router")
    services.app_submit(app=app, actor=alice)
    MicroApp.objects.filter(pk=app.pk).update(sla_availability=None)
    add_contract(app, valid=False)
    return Review.objects.get(app=app)


def decide(client, review, **body):
    return client.post(f"/api/v1/reviews/{review.pk}/decide/", body, format="json")


def test_the_api_refuses_to_approve_past_the_checklist_without_a_reason(
    api_as, pat, failing_review
):
    response = decide(api_as(pat), failing_review, decision="approved", comment="Fine.")

    assert response.status_code == 400
    assert "Say why the app may go live anyway." in str(response.json()["override_reason"])
    assert MicroApp.objects.get(pk=failing_review.app_id).state == "in_review"
    assert Review.objects.get(pk=failing_review.pk).decision == ""


def test_the_api_approves_past_the_checklist_with_a_reason_and_records_it(
    api_as, pat, failing_review
):
    response = decide(
        api_as(pat),
        failing_review,
        decision="approved",
        override_reason="Incident fix; SLA and contract follow this week.",
    )

    assert response.status_code == 200, response.json()
    app = MicroApp.objects.get(pk=failing_review.app_id)
    assert app.state == "active"
    event = app.audit_events.get(action="activated")
    assert event.data["override_reason"] == "Incident fix; SLA and contract follow this week."
    assert set(event.data["failing_checks"]) == {"sla", "contract"}


def test_rejecting_needs_no_override_reason(api_as, pat, failing_review):
    response = decide(api_as(pat), failing_review, decision="rejected", comment="No SLA.")

    assert response.status_code == 200


def test_a_passing_checklist_needs_no_override_reason(api_as, pat, alice, support_tools, regions):
    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Clean App")
    services.app_submit(app=app, actor=alice)

    response = decide(api_as(pat), Review.objects.get(app=app), decision="approved")

    assert response.status_code == 200
    assert MicroApp.objects.get(pk=app.pk).audit_events.get(action="activated").data == {}


def test_the_schema_documents_the_override_reason(api):
    schema = api.get("/api/schema/", {"format": "json"}).json()
    fields = schema["components"]["schemas"]["ReviewDecisionRequest"]["properties"]
    assert "go-live checklist" in fields["override_reason"]["description"]


def test_the_review_page_shows_the_blocking_items_next_to_the_decision(client, pat, failing_review):
    client.force_login(pat)

    html = client.get(f"/reviews/{failing_review.pk}/").content.decode()

    form = html[html.index('id="r-decide"') :]
    assert "The go-live checklist is not met." in form
    assert 'data-check="sla"' in form and 'data-check="contract"' in form
    assert 'name="override_reason"' in form


def test_the_review_page_refuses_to_approve_without_a_reason_next_to_the_field(
    client, pat, failing_review
):
    client.force_login(pat)

    response = client.post(f"/reviews/{failing_review.pk}/", {"decision": "approved"})

    assert response.status_code == 400
    html = response.content.decode()
    assert 'aria-describedby="override_reason-error decision-blocking"' in html
    assert 'id="override_reason-error"' in html
    assert "Say why the app may go live anyway." in html
    assert MicroApp.objects.get(pk=failing_review.app_id).state == "in_review"

    done = client.post(
        f"/reviews/{failing_review.pk}/",
        {"decision": "approved", "override_reason": "Agreed with the owner."},
    )
    assert done.status_code == 302
    event = MicroApp.objects.get(pk=failing_review.app_id).audit_events.get(action="activated")
    assert event.data["override_reason"] == "Agreed with the owner."
