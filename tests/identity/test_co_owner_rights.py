"""A co-owner in another team answers for the app like its owner: edits and renews it,
sees its draft and its reviews, finds it among "My apps", and no list repeats it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog import permissions
from catalog.models import MicroApp, Review
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dana(field_ops):
    person = UserFactory(username="dana")
    field_ops.members.add(person)
    return person


@pytest.fixture
def draft(alice, support_tools, dana):
    app = MicroAppFactory(slug="secret-draft", team=support_tools, owner=alice)
    app.co_owners.add(dana, UserFactory(), UserFactory())
    return app


def test_a_co_owner_may_do_what_the_owner_may(dana, draft, carol):
    for action in ("view", "view_reviews", "edit", "submit", "renew", "retire"):
        assert permissions.allows(action, dana, draft), action
        assert not permissions.allows(action, carol, draft), action
    assert not permissions.can_decide_review(dana, draft)


def test_a_co_owner_sees_the_draft_once_in_lists(api_as, dana, draft, carol):
    rows = api_as(dana).get("/api/v1/apps/", {"state": "draft"}).json()["results"]
    assert [row["slug"] for row in rows] == ["secret-draft"]
    assert api_as(carol).get("/api/v1/apps/secret-draft/").status_code == 404
    assert list(MicroApp.objects.owned_by(dana)) == [draft]


def test_a_co_owner_sees_the_apps_reviews(api_as, dana, draft, carol):
    review = Review.objects.create(app=draft, due_at=timezone.now() + timedelta(hours=48))

    assert [r["id"] for r in api_as(dana).get("/api/v1/reviews/").json()["results"]] == [review.pk]
    assert api_as(dana).get(f"/api/v1/reviews/{review.pk}/").status_code == 200
    assert api_as(carol).get(f"/api/v1/reviews/{review.pk}/").status_code == 404


def test_a_co_owner_edits_and_renews_through_the_pages(client, dana, alice, support_tools):
    app = MicroAppFactory(
        slug="live-one",
        team=support_tools,
        owner=alice,
        state="active",
        expires_at=timezone.now() + timedelta(days=5),
    )
    app.co_owners.add(dana)
    client.force_login(dana)

    assert client.get(reverse("app-edit", args=["live-one"])).status_code == 200
    renewed = client.post(
        reverse("lifecycle:app-renew", args=["live-one"]),
        {"justification": "Still used by the field team every day."},
    )
    assert renewed.status_code in (200, 302)
    app.refresh_from_db()
    assert app.expires_at > timezone.now() + timedelta(days=30)


def test_my_apps_lists_co_owned_apps(client, dana, draft):
    client.force_login(dana)
    assert "secret-draft" in client.get(reverse("my-apps")).content.decode()
