"""The figures the corpus report prints for Backstage's own examples: every entity kept,
every Component mapped, every entity back out whole, whatever the import order; and an
entity Backstage refuses is refused here too."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from catalog.backstage.corpus import run_corpus
from catalog.management.commands.backstage_corpus_report import default_folders
from catalog.models import BackstageEntity, MicroApp

pytestmark = pytest.mark.django_db


def test_the_examples_import_cold_in_any_order_and_come_back_whole():
    runs = {run.name: run for run in run_corpus(default_folders())}

    batch = runs["one batch"]
    assert batch.refused_files == []
    assert batch.actions[("Component", "created")] == 9
    assert batch.actions[("Group", "created")] == 2
    assert batch.actions[("User", "created")] == 5
    for run in runs.values():
        assert dict(run.whole) == dict(run.read), run.name  # the round trip keeps all
        assert run.dependencies == 1, run.name  # www-artist consumes artist-lookup
    # Backstage refuses "invalid component"; a user owner must arrive first or with it.
    assert runs["file by file"].refused_files == [
        "backstage-examples/invalid-component.yaml",
        "backstage-examples/playback-order-component.yaml",
    ]
    assert runs["file by file, reversed"].refused_files == [
        "backstage-examples/invalid-component.yaml"
    ]
    # Nothing stays behind.
    assert not BackstageEntity.objects.exists() and not MicroApp.objects.exists()


def test_the_command_prints_a_table_per_run():
    out = StringIO()
    call_command("backstage_corpus_report", stdout=out)
    text = out.getvalue()
    assert "one batch" in text and "file by file, reversed" in text
    component = next(line for line in text.splitlines() if line.startswith("Component"))
    assert component.split() == ["Component", "9", "0", "0", "0", "0", "0", "9/9"]


def test_an_entity_name_backstage_refuses_is_refused(api_as, pat):
    text = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata: {name: invalid component}\n"
        "spec: {type: service, lifecycle: production, owner: group:nobody}\n"
    )
    response = api_as(pat).post("/api/v1/apps/import/", data=text, content_type="application/yaml")
    assert response.status_code == 400
    entity = response.json()["entities"][0]
    assert entity["errors"][0]["field"] == "metadata.name"
    assert "not a valid entity name" in entity["errors"][0]["message"]
