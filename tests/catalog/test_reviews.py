"""The review board: who sees which reviews, every decision, role checks, double decisions,
and the queue and review pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from catalog import services
from catalog.models import MicroApp, Notification, Review
from tests.catalog.review_support import pii_app
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
REVIEWS = "/api/v1/reviews/"


@pytest.fixture
def in_review(alice, support_tools, regions):
    """Alice's PII app, submitted: in review with an open Review."""
    app = pii_app(team=support_tools, owner=alice, regions=regions, name="Ticket Router")
    services.app_submit(app=app, actor=alice)
    return Review.objects.get(app=app)


def decide(client, review, decision, comment=""):
    return client.post(
        f"{REVIEWS}{review.pk}/decide/", {"decision": decision, "comment": comment}, format="json"
    )


# --- decisions ----------------------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_approving_activates_the_app_and_tells_the_owner(api_as, pat, alice, in_review):
    response = decide(api_as(pat), in_review, "approved", "Looks good.")

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["decision"] == "approved" and body["reviewer"] == "pat"
    assert body["app_state"] == "active"
    app = MicroApp.objects.get(pk=in_review.app_id)
    assert app.state == "active" and app.expires_at == NOW + timedelta(days=90)
    event = app.audit_events.get(action="activated")
    assert event.actor == pat and event.comment == "Review approved. Looks good."
    note = Notification.objects.get(kind="review_approved")
    assert note.recipient == alice


def test_requesting_changes_sends_the_app_back_to_draft_with_the_comment(
    api_as, client, pat, alice, in_review
):
    response = decide(api_as(pat), in_review, "changes_requested", "Move the data to eu-sovereign.")

    assert response.status_code == 200
    app = MicroApp.objects.get(pk=in_review.app_id)
    assert app.state == "draft"
    assert app.audit_events.get(action="changes_requested").comment == (
        "Move the data to eu-sovereign."
    )
    assert Notification.objects.get(kind="review_changes_requested").recipient == alice
    client.force_login(alice)
    html = client.get(app.get_absolute_url()).content.decode()
    assert "Changes requested by pat" in html
    assert "Move the data to eu-sovereign." in html


def test_rejecting_retires_the_app_and_keeps_the_reason(api_as, pat, alice, in_review):
    response = decide(api_as(pat), in_review, "rejected", "Duplicates crm-sync.")

    assert response.status_code == 200
    app = MicroApp.objects.get(pk=in_review.app_id)
    assert app.state == "retired"
    assert app.retired_reason == "Duplicates crm-sync."
    assert app.audit_events.get(action="retired").actor == pat
    assert Notification.objects.get(kind="review_rejected").recipient == alice


@pytest.mark.parametrize("decision", ["changes_requested", "rejected"])
def test_a_comment_is_mandatory_to_request_changes_or_reject(api_as, pat, in_review, decision):
    response = decide(api_as(pat), in_review, decision, "   ")

    assert response.status_code == 400
    assert "comment" in response.json()
    assert Review.objects.get(pk=in_review.pk).is_open


def test_the_service_enforces_the_comment_too(pat, in_review):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as exc:
        services.review_decide(review=in_review, actor=pat, decision="rejected", comment="")
    assert "comment" in exc.value.message_dict


def test_an_unknown_decision_is_refused(api_as, pat, in_review):
    assert decide(api_as(pat), in_review, "maybe").status_code == 400


def test_resubmitting_after_changes_opens_a_new_review(api_as, pat, alice, in_review):
    decide(api_as(pat), in_review, "changes_requested", "Add a runbook.")

    response = api_as(alice).post(f"/api/v1/apps/{in_review.app.slug}/submit/")

    assert response.status_code == 200
    assert Review.objects.filter(app=in_review.app).count() == 2
    assert Review.objects.filter(app=in_review.app, decision="").count() == 1


# --- roles ---------------------------------------------------------------------------------


def test_alice_cannot_decide_even_on_a_review_she_can_see(api_as, alice, in_review):
    response = decide(api_as(alice), in_review, "approved")

    assert response.status_code == 403
    assert Review.objects.get(pk=in_review.pk).is_open


def test_pat_cannot_decide_on_an_app_he_owns(api_as, pat, platform_team, regions):
    app = pii_app(team=platform_team, owner=pat, regions=regions)
    services.app_submit(app=app, actor=pat)
    review = Review.objects.get(app=app)

    response = decide(api_as(pat), review, "approved")

    assert response.status_code == 403
    assert MicroApp.objects.get(pk=app.pk).state == "in_review"


def test_a_platform_member_cannot_decide_for_their_own_team(api_as, pat, alice, in_review):
    from catalog.models import Team

    Team.objects.get(slug="support-tools").members.add(pat)

    assert decide(api_as(pat), in_review, "approved").status_code == 403


def test_another_platform_member_can_decide_on_pats_app(api_as, pat, platform_team, regions):
    from catalog.choices import PLATFORM_GROUP
    from tests.factories import add_to_group

    app = pii_app(team=platform_team, owner=pat, regions=regions)
    services.app_submit(app=app, actor=pat)
    quinn = add_to_group(UserFactory(username="quinn"), PLATFORM_GROUP)

    assert decide(api_as(quinn), Review.objects.get(app=app), "approved").status_code == 200


def test_carol_does_not_even_see_the_review(api_as, carol, in_review):
    assert decide(api_as(carol), in_review, "approved").status_code == 404
    assert api_as(carol).get(f"{REVIEWS}{in_review.pk}/").status_code == 404


# --- double decisions -------------------------------------------------------------------------


def test_deciding_twice_answers_409_and_changes_nothing(api_as, pat, in_review):
    client = api_as(pat)
    assert decide(client, in_review, "approved").status_code == 200

    again = decide(client, in_review, "rejected", "Changed my mind.")

    assert again.status_code == 409
    assert again.json()["code"] == "already_decided"
    review = Review.objects.get(pk=in_review.pk)
    assert review.decision == "approved"
    assert MicroApp.objects.get(pk=review.app_id).state == "active"


def test_a_stale_review_object_cannot_be_decided_again(pat, in_review):
    """Two deciders loaded the same open review; the second write must not win."""
    stale = Review.objects.get(pk=in_review.pk)
    services.review_decide(review=in_review, actor=pat, decision="approved")

    with pytest.raises(services.ReviewAlreadyDecided):
        services.review_decide(review=stale, actor=pat, decision="rejected", comment="No.")
    assert MicroApp.objects.get(pk=in_review.app_id).state == "active"


# --- the list API ---------------------------------------------------------------------------


def make_reviews(n: int, *, team, owner, regions) -> None:
    for _ in range(n):
        app = pii_app(team=team, owner=owner, regions=regions)
        services.app_submit(app=app, actor=owner)


def test_platform_sees_all_reviews_owners_their_apps_and_others_none(
    api_as, pat, alice, bob, carol, field_ops, in_review, regions
):
    make_reviews(2, team=field_ops, owner=carol, regions=regions)

    def slugs(user):
        return sorted(r["app"] for r in api_as(user).get(REVIEWS).json()["results"])

    assert len(slugs(pat)) == 3
    assert slugs(alice) == slugs(bob) == [in_review.app.slug]
    assert len(slugs(carol)) == 2
    assert slugs(UserFactory(username="nobody")) == []


def test_the_list_filters_by_state_and_app(api_as, pat, in_review, alice, support_tools, regions):
    make_reviews(1, team=support_tools, owner=alice, regions=regions)
    decide(api_as(pat), in_review, "approved")
    client = api_as(pat)

    assert client.get(REVIEWS, {"open": "true"}).json()["count"] == 1
    assert client.get(REVIEWS, {"decision": "approved"}).json()["count"] == 1
    assert client.get(REVIEWS, {"app": in_review.app.slug}).json()["count"] == 1
    assert api_as(alice).get(REVIEWS).status_code == 200


def test_the_list_is_sorted_by_due_time_and_marks_overdue(
    api_as, pat, alice, support_tools, regions
):
    with time_machine.travel(NOW, tick=False):
        make_reviews(1, team=support_tools, owner=alice, regions=regions)
    with time_machine.travel(NOW + timedelta(hours=30), tick=False):
        make_reviews(1, team=support_tools, owner=alice, regions=regions)
    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        rows = api_as(pat).get(REVIEWS).json()["results"]

    assert [r["is_overdue"] for r in rows] == [True, False]
    assert rows[0]["due_at"] < rows[1]["due_at"]


def test_the_reviews_list_runs_a_fixed_number_of_queries(
    api_as, pat, alice, support_tools, regions, django_assert_max_num_queries
):
    make_reviews(2, team=support_tools, owner=alice, regions=regions)
    client = api_as(pat)
    with django_assert_max_num_queries(6) as few:
        assert client.get(REVIEWS).json()["count"] == 2
    make_reviews(15, team=TeamFactory(), owner=UserFactory(), regions=regions)

    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get(REVIEWS).json()["count"] == 17


def test_anonymous_callers_are_refused(api):
    assert api.get(REVIEWS).status_code in (401, 403)


# --- pages ----------------------------------------------------------------------------------


def test_the_queue_page_sorts_by_due_time_and_highlights_overdue(
    client, pat, alice, support_tools, regions, django_assert_max_num_queries
):
    with time_machine.travel(NOW, tick=False):
        make_reviews(1, team=support_tools, owner=alice, regions=regions)
    with time_machine.travel(NOW + timedelta(hours=30), tick=False):
        make_reviews(2, team=support_tools, owner=alice, regions=regions)
    client.force_login(pat)

    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        with django_assert_max_num_queries(12) as few:
            html = client.get("/reviews/").content.decode()
        make_reviews(10, team=TeamFactory(), owner=UserFactory(), regions=regions)
        with django_assert_max_num_queries(len(few.captured_queries)):
            more = client.get("/reviews/")

    assert html.count('class="review-row review-row--overdue"') == 1
    assert html.index('class="review-row review-row--overdue"') < html.index('class="review-row"')
    assert len(more.context["reviews"]) == 13


def test_the_queue_page_serves_its_rows_to_htmx(client, pat, in_review):
    client.force_login(pat)

    response = client.get("/reviews/", headers={"HX-Request": "true"})

    assert b"<html" not in response.content
    assert f'data-review="{in_review.pk}"'.encode() in response.content


def test_the_review_page_shows_the_app_findings_and_contract(client, pat, in_review):
    client.force_login(pat)

    html = client.get(f"/reviews/{in_review.pk}/").content.decode()

    assert "Ticket Router" in html
    assert "eu-sovereign" in html
    assert "All policies pass." in html
    assert "OpenAPI 1." in html and "valid" in html
    assert 'name="decision"' in html


def test_deciding_from_the_review_page(client, pat, in_review):
    client.force_login(pat)

    missing = client.post(f"/reviews/{in_review.pk}/", {"decision": "rejected", "comment": ""})
    assert missing.status_code == 400
    assert "Tell the owner" in missing.content.decode()

    done = client.post(
        f"/reviews/{in_review.pk}/",
        {"decision": "changes_requested", "comment": "Add docs."},
        follow=True,
    )
    assert "changes requested" in done.content.decode()
    assert MicroApp.objects.get(pk=in_review.app_id).state == "draft"

    twice = client.post(f"/reviews/{in_review.pk}/", {"decision": "approved"}, follow=True)
    assert "decided this review already" in twice.content.decode()


def test_owners_see_the_review_page_without_the_decision_form(client, alice, in_review):
    client.force_login(alice)

    response = client.get(f"/reviews/{in_review.pk}/")

    assert response.status_code == 200
    assert 'name="decision"' not in response.content.decode()
    assert client.post(f"/reviews/{in_review.pk}/", {"decision": "approved"}).status_code == 403


def test_the_timeline_shows_submit_and_decision(client, api_as, pat, alice, in_review):
    decide(api_as(pat), in_review, "changes_requested", "Fix the regions.")
    client.force_login(alice)

    html = client.get(in_review.app.get_absolute_url()).content.decode()

    assert "timeline__item--submitted" in html
    assert "timeline__item--changes_requested" in html


def test_the_review_link_on_the_app_page_is_shown_only_to_who_may_open_it(
    client, carol, alice, pat, in_review
):
    url = MicroApp.objects.get(pk=in_review.app_id).get_absolute_url()
    review_url = f"/reviews/{in_review.pk}/"

    client.force_login(carol)
    html = client.get(url).content.decode()
    assert "Waiting for a platform review" in html
    assert review_url not in html
    assert client.get(review_url).status_code == 404

    client.force_login(alice)
    assert f'href="{review_url}">See the review' in client.get(url).content.decode()
    client.force_login(pat)
    assert f'href="{review_url}">Review it' in client.get(url).content.decode()
