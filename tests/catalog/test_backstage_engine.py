"""Backstage's own example catalogs, imported cold: in one batch (upload and background
job) and file by file in any order, each entity kept by its full reference."""

from __future__ import annotations

from collections import Counter

import pytest

from catalog.models import BackstageEntity, ImportJob, MicroApp
from tests.catalog.backstage_support import post_yaml
from tests.contracts.helpers import BACKSTAGE
from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db

EXAMPLES = sorted((BACKSTAGE / "backstage-examples").glob("*.yaml"))
CREATE_APP = sorted((BACKSTAGE / "create-app-examples").glob("*.yaml"))
# Backstage's examples hold one Component whose name Backstage itself refuses ("invalid
# component"): refused here too (test_backstage_corpus_report), so left out of the batch.
FILES = [path for path in EXAMPLES + CREATE_APP if path.name != "invalid-component.yaml"]
# The Components of both catalogs: eight valid in Backstage's examples, one in create-app's.
APPS = {
    "alternative-different-namespace",
    "artist-lookup",
    "backstage-existing",
    "backstage-plugin-catalog-backend",
    "example-website",
    "playback-order",
    "podcast-api",
    "wayback-search",
    "www-artist",
}
# 32 documents; ``user:default/guest`` is in both catalogs, ``user:development/guest`` is
# another person.
DOCUMENTS = 32
ENTITIES = 31
KINDS = {
    "api": 10,
    "component": 9,
    "group": 2,
    "user": 5,
    "system": 2,
    "resource": 1,
    "domain": 1,
    "location": 1,
}


def batch_text() -> str:
    # Not every file ends with a newline.
    return "".join("\n---\n" + path.read_text() for path in FILES)


@pytest.fixture
def teams(pat):
    """The owners the catalogs name, as teams with a lead (the Group entities themselves
    are the organisation import's part)."""
    lead = UserFactory(username="lead")
    guest = UserFactory(username="guest")
    made = {}
    for slug in ("team-a", "team-b", "team-c", "catalog-maintainers", "cncf", "guests"):
        made[slug] = TeamFactory(slug=slug, name=slug, lead=lead)
        made[slug].members.add(lead)
    made["team-a"].members.add(guest)
    return made


def assert_imported(summary: Counter) -> None:
    assert set(MicroApp.objects.values_list("slug", flat=True)) == APPS
    assert BackstageEntity.objects.count() == ENTITIES
    assert dict(Counter(BackstageEntity.objects.values_list("kind", flat=True))) == KINDS
    assert BackstageEntity.objects.filter(kind="component", app__isnull=True).count() == 0
    # Never the importer: the lead of the owning team, or the person a user: owner names.
    assert set(MicroApp.objects.values_list("owner__username", flat=True)) == {"lead", "guest"}
    assert summary["error"] == 0


def test_both_catalogs_in_one_upload(api_as, pat, teams):
    response = post_yaml(api_as(pat), batch_text())

    assert response.status_code == 201, [e for e in response.json()["entities"] if e["errors"]]
    body = response.json()
    actions = Counter(e["action"] for e in body["entities"])
    assert_imported(actions)
    assert len(body["entities"]) == DOCUMENTS
    by_ref = {e["ref"]: e for e in body["entities"]}
    assert by_ref["component:default/wayback-search"]["action"] == "created"
    assert by_ref["location:default/example-all"]["action"] == "skipped"
    # Taken in order: Groups, Users, Components, APIs, then every other kind.
    order = [e["kind"] for e in body["entities"]]
    assert order[:8] == ["Group"] * 2 + ["User"] * 6
    assert order[8:17] == ["Component"] * 9 and order[17:27] == ["API"] * 10
    assert body["skipped_kinds"] == {"Domain": 1, "Location": 1, "Resource": 1, "System": 2}
    app = MicroApp.objects.get(slug="alternative-different-namespace")
    assert app.backstage_entity.ref == "component:alternative/different-namespace"
    assert app.team == teams["team-a"]


def test_both_catalogs_in_one_background_job(
    api_as, pat, teams, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = post_yaml(api_as(pat), batch_text(), "?background=true")

    assert response.status_code == 202, response.json()
    job = ImportJob.objects.get()
    assert job.state == "succeeded", job.failure
    actions = Counter(line["action"] for line in job.report["entities"])
    assert_imported(actions)
    assert (job.total, job.processed, job.errors) == (DOCUMENTS, DOCUMENTS, 0)
    assert job.created == actions["created"] and job.skipped == actions["skipped"]


def test_file_by_file_in_any_order(api_as, pat, teams):
    client = api_as(pat)
    actions: Counter = Counter()
    for path in reversed(FILES):  # APIs before the Components that provide them, and so on
        response = post_yaml(client, path.read_text())
        assert response.status_code == 201, (path.name, response.json())
        actions.update(e["action"] for e in response.json()["entities"])

    assert_imported(actions)


def test_a_second_import_of_both_catalogs_writes_nothing(api_as, pat, teams):
    client = api_as(pat)
    assert post_yaml(client, batch_text()).status_code == 201
    stamps = dict(MicroApp.objects.values_list("slug", "updated_at"))

    again = post_yaml(client, batch_text())

    assert again.status_code == 201
    actions = Counter(e["action"] for e in again.json()["entities"] if e["kind"] == "Component")
    assert actions == {"unchanged": 9}
    assert dict(MicroApp.objects.values_list("slug", "updated_at")) == stamps


def test_a_background_dry_run_counts_groups_of_the_same_batch(
    api_as, pat, django_capture_on_commit_callbacks
):
    """Each entity of a background dry run is rolled back: the Component owned by a Group
    of the same file is still judged as it would be written."""
    lead = UserFactory(username="lead")
    TeamFactory(slug="team-a", lead=lead)  # the other owners' teams do not exist
    text = (BACKSTAGE / "create-app-examples" / "org.yaml").read_text()
    text += "---\n" + (BACKSTAGE / "create-app-examples" / "entities.yaml").read_text()

    with django_capture_on_commit_callbacks(execute=True):
        post_yaml(api_as(pat), text, "?background=true&dry_run=true")

    job = ImportJob.objects.get()
    lines = {line["ref"]: line for line in job.report["entities"]}
    assert lines["component:default/example-website"]["action"] == "created", lines[
        "component:default/example-website"
    ]["errors"]
    assert lines["component:default/example-website"]["errors"] == []
    assert not MicroApp.objects.exists() and not BackstageEntity.objects.exists()
