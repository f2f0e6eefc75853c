"""Another team's draft answers exactly like an app that does not exist, wherever a slug or
id names an app: a different answer would let anyone probe for drafts they cannot see."""

from __future__ import annotations

import pytest

from catalog.models import MicroApp
from tests.catalog.test_api import payload
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

DRAFT, MISSING = "carols-draft", "nothing-here"


@pytest.fixture
def draft(carol, field_ops):
    app = MicroAppFactory(slug=DRAFT, team=field_ops, owner=carol)
    assert app.state == "draft"
    return app


def same_answer(invisible, missing, *pairs: tuple[str, str]) -> None:
    """Both answers, byte for byte, once the names in them are swapped."""
    assert invisible.status_code == missing.status_code
    body = invisible.content
    for seen, unseen in pairs:
        body = body.replace(seen.encode(), unseen.encode())
    assert body == missing.content


def test_depends_on_an_invisible_draft_answers_like_a_missing_slug(api_as, alice, draft, regions):
    client = api_as(alice)
    invisible = client.post("/api/v1/apps/", payload(depends_on=[DRAFT]), format="json")
    missing = client.post("/api/v1/apps/", payload(depends_on=[MISSING]), format="json")
    assert missing.status_code == 400
    same_answer(invisible, missing, (DRAFT, MISSING))
    assert not MicroApp.objects.filter(slug="ticket-router").exists()  # nothing linked


def test_a_visible_app_can_still_be_a_dependency(api_as, alice, carol, field_ops, regions):
    MicroAppFactory(slug="carols-live", team=field_ops, owner=carol, state="active")
    response = api_as(alice).post(
        "/api/v1/apps/", payload(depends_on=["carols-live"]), format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["depends_on"] == ["carols-live"]


@pytest.mark.parametrize("url", ["/api/v1/reviews/", "/api/v1/sunset-cases/"])
def test_filtering_by_an_invisible_draft_answers_like_a_missing_slug(api_as, alice, draft, url):
    client = api_as(alice)
    same_answer(
        client.get(url, {"app": DRAFT}), client.get(url, {"app": MISSING}), (DRAFT, MISSING)
    )
    missing_id = str(MicroApp.objects.order_by("-pk").first().pk + 1000)
    invisible = client.get(url, {"app_id": draft.pk})
    missing = client.get(url, {"app_id": missing_id})
    assert missing.status_code == 400
    same_answer(invisible, missing, (str(draft.pk), missing_id))


def test_the_owning_team_can_still_filter_by_its_draft(api_as, carol, draft):
    assert api_as(carol).get("/api/v1/reviews/", {"app": DRAFT}).status_code == 200


def test_backstage_depends_on_an_invisible_draft_reads_as_dangling(api_as, alice, draft):
    component = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: probe}
spec: {type: service, lifecycle: experimental, owner: support-tools, dependsOn: [component:%s]}
"""
    client = api_as(alice)

    def dry_run(target):
        return client.post(
            "/api/v1/apps/import/?dry_run=true",
            data=component % target,
            content_type="application/yaml",
        )

    invisible, missing = dry_run(DRAFT), dry_run(MISSING)
    assert (
        "dependsOn component:default/nothing-here: not in the catalog yet"
        in missing.content.decode()
    )
    same_answer(invisible, missing, (DRAFT, MISSING))


def test_the_register_form_refuses_an_invisible_draft_like_a_missing_app(
    client, alice, support_tools, draft
):
    from tests.catalog.test_forms import data

    client.force_login(alice)
    missing_id = str(MicroApp.objects.order_by("-pk").first().pk + 1000)

    def errors(dependency) -> str:
        response = client.post("/apps/new/", data(support_tools, alice, depends_on=[dependency]))
        assert response.status_code == 200  # the form again, with its errors
        return str(response.context["form"].errors["depends_on"])

    assert errors(draft.pk).replace(str(draft.pk), missing_id) == errors(missing_id)
    assert not MicroApp.objects.filter(slug="visit-logger").exists()


TAKEN = "carols-live"
CLAIM = """
apiVersion: backstage.io/v1alpha1
kind: Component
metadata: {name: %s}
spec: {type: service, lifecycle: experimental, owner: support-tools}
"""


@pytest.mark.parametrize("query", ["?dry_run=true", ""])
def test_backstage_import_of_a_drafts_slug_answers_like_any_taken_slug(
    api_as, alice, carol, field_ops, draft, query
):
    """The refusal is registration's "slug taken", and says nothing about who holds it."""
    MicroAppFactory(slug=TAKEN, team=field_ops, owner=carol, state="active")
    client = api_as(alice)

    def claim(slug):
        url = f"/api/v1/apps/import/{query}"
        return client.post(url, data=CLAIM % slug, content_type="application/yaml")

    invisible, taken = claim(DRAFT), claim(TAKEN)
    assert taken.status_code == 400
    assert taken.json()["entities"][0]["errors"] == [
        {"field": "metadata.name", "message": "Another app already uses this slug."}
    ]
    same_answer(invisible, taken, (DRAFT, TAKEN))
    registration = client.post("/api/v1/apps/", payload(slug=TAKEN), format="json")
    assert registration.json()["slug"] == ["Another app already uses this slug."]
    assert MicroApp.objects.get(slug=DRAFT).team == field_ops


def test_a_background_import_of_a_drafts_slug_reports_like_any_taken_slug(
    api_as, alice, carol, field_ops, draft, django_capture_on_commit_callbacks
):
    MicroAppFactory(slug=TAKEN, team=field_ops, owner=carol, state="active")
    client = api_as(alice)

    def report(slug):
        with django_capture_on_commit_callbacks(execute=True):
            job = client.post(
                "/api/v1/apps/import/?background=true",
                data=CLAIM % slug,
                content_type="application/yaml",
            )
        return client.get(job["Location"]).json()["report"]

    invisible, taken = report(DRAFT), report(TAKEN)
    assert taken["errors"][0]["errors"] == [
        {"field": "metadata.name", "message": "Another app already uses this slug."}
    ]
    assert str(invisible).replace(DRAFT, TAKEN) == str(taken)
