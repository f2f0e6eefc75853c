"""How a real Backstage catalog fares: imported cold in one batch, file by file (in file
order and reversed, so every reference meets its target both before and after it), and
back out as Backstage entities. Everything happens inside a transaction that is rolled
back: the database is left as it was. ``manage.py backstage_corpus_report`` prints it."""

from __future__ import annotations

import copy
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import yaml
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import transaction

from catalog.backstage.fleet import fleet_entities
from catalog.backstage.importer import ImportRejected, import_catalog_info
from catalog.backstage.refs import EntityRef
from catalog.models import Dependency
from catalog.permissions import PLATFORM_GROUP


@dataclass
class Run:
    """One way of importing the corpus: outcomes by kind, what it linked, what came back."""

    name: str
    actions: Counter = field(default_factory=Counter)  # (kind, action) -> count
    refused_files: list[str] = field(default_factory=list)
    dependencies: int = 0
    contracts: int = 0
    whole: Counter = field(default_factory=Counter)  # kind -> entities exported as read
    read: Counter = field(default_factory=Counter)  # kind -> entities read


@dataclass
class Corpus:
    files: list[Path]
    # Files a run leaves out of its one batch: Backstage's own examples hold one entity
    # that is invalid by design, and one refused entity refuses a whole upload.
    refused_by_design: frozenset[str] = frozenset({"invalid-component.yaml"})

    def texts(self, *, reverse: bool = False) -> list[tuple[str, str]]:
        files = sorted(self.files, key=lambda p: (p.parent.name, p.name), reverse=reverse)
        return [(f"{p.parent.name}/{p.name}", p.read_text()) for p in files]


def without_appkeeper_annotations(entity: dict, original: dict) -> dict:
    """``entity`` minus Appkeeper's own ``appkeeper.io/*`` annotations."""
    entity = copy.deepcopy(entity)
    annotations = {
        key: value
        for key, value in (entity.get("metadata") or {}).pop("annotations", {}).items()
        if not key.startswith("appkeeper.io/")
    }
    if annotations or "annotations" in (original.get("metadata") or {}):
        entity["metadata"]["annotations"] = annotations
    return entity


def run_corpus(folders: list[Path]) -> list[Run]:
    corpus = Corpus([p for folder in folders for p in sorted(folder.glob("*.yaml"))])
    runs = []
    with transaction.atomic():
        user = get_user_model().objects.create(username="backstage-corpus-report")
        user.groups.add(Group.objects.get_or_create(name=PLATFORM_GROUP)[0])
        for name, batches in (
            ("one batch", [("all", _joined(corpus))]),
            ("file by file", corpus.texts()),
            ("file by file, reversed", corpus.texts(reverse=True)),
        ):
            savepoint = transaction.savepoint()
            runs.append(_run(name, batches, user))
            transaction.savepoint_rollback(savepoint)
        transaction.set_rollback(True)
    return runs


def _joined(corpus: Corpus) -> str:
    return "\n---\n".join(
        text
        for name, text in corpus.texts()
        if name.rsplit("/", 1)[-1] not in corpus.refused_by_design
    )


def _run(name: str, batches: list[tuple[str, str]], user) -> Run:
    run = Run(name)
    request = SimpleNamespace(user=user)
    read: dict[str, dict] = {}
    for label, text in batches:
        try:
            report = import_catalog_info(text=text, user=user, request=request, dry_run=False)
        except ImportRejected as rejected:
            run.refused_files.append(label)
            report = rejected.report
            for entity in report.entities:
                run.actions[(entity.kind, "refused")] += 1
            continue
        for entity in report.entities:
            run.actions[(entity.kind, entity.action)] += 1
        for doc in yaml.safe_load_all(text):
            if isinstance(doc, dict):
                read[EntityRef.of(doc).key] = doc  # the last copy wins, as stored
    run.dependencies = Dependency.objects.filter(origin="backstage").count()
    from catalog.models import Contract

    run.contracts = Contract.objects.count()
    exported = {EntityRef.of(e).key: e for e in fleet_entities(user)}
    for key, doc in read.items():
        kind = str(doc.get("kind"))
        if kind == "Location":  # the export holds what a Location points at instead
            continue
        run.read[kind] += 1
        if key in exported and without_appkeeper_annotations(exported[key], doc) == doc:
            run.whole[kind] += 1
    return run
