"""Backstage's own examples, kept as an import keeps them and exported again: every entity
comes back as it was read, give or take Appkeeper's ``appkeeper.io/*`` annotations and
relative placeholders made absolute against the file they were read from."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from urllib.parse import urljoin

import pytest
import yaml

from catalog.backstage.fleet import fleet_entities
from catalog.backstage.placeholders import placeholder
from catalog.backstage.refs import EntityRef
from catalog.backstage.store import store_entity
from tests.catalog.backstage_validation import backstage_rejections
from tests.factories import MicroAppFactory, TeamFactory, UserFactory

CORPUS = Path(__file__).resolve().parents[1] / "data" / "backstage"
FOLDERS = ("backstage-examples", "create-app-examples")
BASE = "https://git.example.com/catalog/"
LIFECYCLE = {"production": "production", "experimental": "sandbox"}


def corpus() -> list[tuple[str, dict]]:
    """(location, entity) for every entity of the examples, in file order."""
    out = []
    for folder in FOLDERS:
        for path in sorted((CORPUS / folder).glob("*.yaml")):
            location = urljoin(BASE, f"{folder}/{path.name}")
            out += [(location, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return out


def _slug(text: str) -> str:
    return re.sub(r"-{2,}", "-", re.sub(r"[^a-z0-9-]", "-", text.lower())).strip("-")


def _absolute(node, location: str):
    """What the export should write for ``node``: relative placeholders joined."""
    found = placeholder(node)
    if found is not None and "://" not in found[1]:
        return {found[0]: urljoin(location, found[1])}
    if isinstance(node, dict):
        return {key: _absolute(value, location) for key, value in node.items()}
    if isinstance(node, list):
        return [_absolute(value, location) for value in node]
    return node


def _without_appkeeper_annotations(entity: dict, original: dict) -> dict:
    entity = copy.deepcopy(entity)
    annotations = {
        key: value
        for key, value in entity["metadata"].pop("annotations", {}).items()
        if not key.startswith("appkeeper.io/")
    }
    if annotations or "annotations" in original.get("metadata", {}):
        entity["metadata"]["annotations"] = annotations
    return entity


def _import_like(stored: dict[str, tuple[dict, object]]) -> None:
    """Link teams, people and apps to the stored entities the way an import does."""
    teams, people = {}, {}
    for key, (doc, entity) in stored.items():
        if doc["kind"] == "Group":
            teams[key] = entity.team = TeamFactory(slug=_slug(f"{entity.namespace}-{entity.name}"))
            entity.save()
        elif doc["kind"] == "User":
            people[key] = entity.user = UserFactory(username=f"{entity.namespace}.{entity.name}")
            entity.save()
    unmapped = TeamFactory(slug="imported-owners")
    for doc, entity in stored.values():
        if doc["kind"] != "Component":
            continue
        metadata, spec = doc["metadata"], doc["spec"]
        owner = EntityRef.parse(
            spec["owner"], default_kind="group", default_namespace=entity.namespace
        )
        app = MicroAppFactory(
            slug=_slug(f"{entity.namespace}-{entity.name}"),
            name=metadata.get("title") or metadata["name"],
            description=(metadata.get("description") or "").strip(),
            tags=list(metadata.get("tags") or []),
            team=teams.get(owner.key, unmapped),
            owner=people.get(owner.key) or UserFactory(),
            environment=LIFECYCLE.get(spec.get("lifecycle"), "staging"),
            deprecated=spec.get("lifecycle") == "deprecated",
            state="active",
        )
        entity.app = app
        entity.imported = {"team": app.team.slug}
        entity.save()


@pytest.fixture
def stored(db):
    kept: dict[str, tuple[dict, object]] = {}
    for location, doc in corpus():
        entity, _ = store_entity(copy.deepcopy(doc), location=location)
        kept[entity.ref] = (doc, entity)
    _import_like(kept)
    return {key: (doc, entity.location) for key, (doc, entity) in kept.items()}


def test_every_kept_entity_goes_back_as_read(stored, pat):
    exported = {EntityRef.of(e).key: e for e in fleet_entities(pat)}

    kinds = {doc["kind"] for doc, _ in stored.values()}
    assert {"Component", "API", "Group", "User", "System", "Domain", "Resource"} <= kinds
    for key, (doc, location) in stored.items():
        if doc["kind"] == "Location":  # the fleet holds what it points at instead
            assert key not in exported
            continue
        assert _without_appkeeper_annotations(exported[key], doc) == _absolute(doc, location), key


def test_backstage_accepts_the_exported_examples(stored, pat):
    entities = fleet_entities(pat)
    # Backstage's own examples hold one entity meant to be invalid, and an MCP server API
    # without spec.definition from its main branch, which the released model still refuses.
    assert set(backstage_rejections(entities)) == {
        "Component:default/invalid component",
        "API:default/backstage-mcp-server",
    }
