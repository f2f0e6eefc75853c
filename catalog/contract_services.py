"""Registering contract versions and checking candidates against them.

The engine in ``contracts`` knows documents; this module knows apps: which version
is the base of a diff, how versions are labelled, what is stored and audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from catalog.models import AuditEvent, Contract, MicroApp
from catalog.selectors import latest_contract
from contracts import (
    ContractDocument,
    ContractError,
    diff_contracts,
    is_compatible,
    load_document,
    validate_contract,
)
from core.types import Actor

# A rewrite of a big API (Stripe's, version to version) yields 200,000 per-operation
# changes. Counts are kept exactly; the list is capped, worst first, so that a stored
# version and an API answer stay a few hundred kilobytes.
MAX_REPORTED_CHANGES = 1000
LEVEL_ORDER = {"ERR": 0, "WARN": 1, "INFO": 2}

# The one rule for version labels, whoever names the version (API, form, Backstage
# annotation, info.version): labels appear in URLs and file names, so no slashes, spaces,
# "?" or "#", and they fit Contract.version (50 characters).
VERSION_LABEL_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,49}$"
VERSION_LABEL_MESSAGE = (
    "Use up to 50 letters, digits, dots, dashes or plus signs, starting with a letter or digit."
)
_VERSION_LABEL = re.compile(VERSION_LABEL_PATTERN)
# Room left for the "-r<n>" suffix that tells apart two documents with the same info.version.
_DERIVED_MAX = 40


def valid_version_label(label: str) -> bool:
    """Whether ``label`` may name a contract version."""
    return isinstance(label, str) and _VERSION_LABEL.fullmatch(label) is not None


def derived_version_label(raw: Any) -> str:
    """A valid label made from a document's own version string ("" when nothing is left).

    The document keeps its ``info.version`` as written; only the label is made safe.
    """
    text = re.sub(r"[^A-Za-z0-9._+-]+", "-", str(raw).strip())
    text = re.sub(r"^[^A-Za-z0-9]+", "", text)[:_DERIVED_MAX]
    return text if valid_version_label(text) else ""


def summarise(changes: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The changes worst first, capped, and the count of each level."""
    counts = dict.fromkeys(LEVEL_ORDER, 0)
    for change in changes:
        counts[change["level"]] = counts.get(change["level"], 0) + 1
    ordered = sorted(changes, key=lambda c: LEVEL_ORDER.get(c["level"], 3))
    return ordered[:MAX_REPORTED_CHANGES], counts


class ContractInvalid(ContractError):
    """The document parsed but does not validate: refused with every error, nothing stored."""

    code = "contract_invalid"


@dataclass
class ContractCheck:
    """What a CI dry run reports: validity, and the changes against the latest version."""

    valid: bool
    errors: list[dict[str, str]]
    spec_version: str
    base_version: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    change_counts: dict[str, int] = field(default_factory=dict)

    @property
    def compatible(self) -> bool:
        return self.valid and not self.change_counts.get("ERR") and is_compatible(self.changes)

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "errors": self.errors,
            "spec_version": self.spec_version,
            "base_version": self.base_version,
            "changes": self.changes,
            "change_counts": self.change_counts,
            "compatible": self.compatible,
        }


def stored_document(contract: Contract) -> ContractDocument:
    """Rebuild the engine's view of a stored version without re-validating it."""
    if contract.kind == "graphql":
        return ContractDocument(
            kind="graphql",
            spec_version="graphql",
            data=None,
            sdl=contract.sdl,
            normalised=contract.sdl,
            sha256=contract.sha256,
        )
    return ContractDocument(
        kind="openapi",
        spec_version=contract.spec_version,
        data=contract.document,
        sdl=None,
        normalised="",
        sha256=contract.sha256,
    )


def contract_check(*, app: MicroApp, content: bytes | str, kind: str | None) -> ContractCheck:
    """Validate a candidate and diff it against the app's latest version; writes nothing.

    Loading errors (too large, malformed, forbidden ``$ref``, too deep) raise
    :class:`ContractError`; validation errors are reported in the result.
    """
    document = load_document(content, kind)
    result = validate_contract(document)
    base = latest_contract(app=app, kind=document.kind)
    changes, counts = summarise(diff_contracts(stored_document(base), document) if base else [])
    return ContractCheck(
        valid=result.valid,
        errors=result.errors,
        spec_version=result.spec_version,
        base_version=base.version if base else None,
        changes=changes,
        change_counts=counts,
    )


def _label(app: MicroApp, document: ContractDocument, requested: str) -> str:
    if requested:
        if not valid_version_label(requested):
            raise ValidationError({"version": VERSION_LABEL_MESSAGE})
        if app.contracts.filter(version=requested).exists():
            raise ValidationError({"version": f"Version {requested} is already registered."})
        return requested
    info = (document.data or {}).get("info") if document.data else None
    base = derived_version_label(info.get("version", "")) if isinstance(info, dict) else ""
    base = base or f"v{app.contracts.count() + 1}"
    label, n = base, 1
    while app.contracts.filter(version=label).exists():
        n += 1
        label = f"{base}-r{n}"
    return label


@transaction.atomic
def contract_upload(
    *,
    app: MicroApp,
    actor: Actor,
    content: bytes | str,
    kind: str | None = None,
    version: str = "",
) -> tuple[Contract, bool]:
    """Store a new immutable version; returns ``(contract, created)``.

    1. Load safely (size, YAML aliases, depth, non-local ``$ref`` are refused first).
    2. Validate, collecting every error; an invalid document is refused, nothing stored.
    3. Identical content (same sha256 of the normalised document) returns the stored one.
    4. Diff against the latest version of the same kind; breaking changes are allowed (the
       owner's call) but stored on the version and recorded in the audit event.
    """
    document = load_document(content, kind)
    result = validate_contract(document)
    if not result.valid:
        raise ContractInvalid(result.errors)
    # Lock the app row so two uploads of the same app are labelled and diffed in turn.
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    existing = app.contracts.filter(sha256=document.sha256).first()
    if existing is not None:
        return existing, False
    base = latest_contract(app=app, kind=document.kind)
    changes, counts = summarise(diff_contracts(stored_document(base), document) if base else [])
    breaking = [c for c in changes if c["level"] == "ERR"]
    contract = Contract(
        app=app,
        kind=document.kind,
        version=_label(app, document, version.strip()),
        document=document.data,
        sdl=document.sdl or "",
        sha256=document.sha256,
        spec_version=document.spec_version,
        is_valid=True,
        errors=[],
        changes=changes,
        change_counts=counts,
        breaking=bool(counts["ERR"]),
        author=actor if actor is not None and actor.is_authenticated else None,
    )
    try:
        with transaction.atomic():
            contract.save()
    except IntegrityError:
        raise ValidationError({"version": "This version was registered meanwhile."}) from None
    AuditEvent.record(
        app=app,
        actor=actor,
        action="contract_uploaded",
        changes={"contract": [base.version if base else None, contract.version]},
        comment=f"{counts['ERR']} breaking change(s)" if breaking else "",
        data={
            "version": contract.version,
            "spec_version": contract.spec_version,
            "breaking_changes": breaking[:100],
        },
    )
    return contract, True


def contract_changelog(older: Contract, newer: Contract) -> list[dict[str, Any]]:
    """Changes between any two stored versions of an app (either order of arguments)."""
    if older.kind != newer.kind:
        raise ValidationError({"against": "An OpenAPI and a GraphQL contract cannot be compared."})
    if (older.created_at, older.pk) > (newer.created_at, newer.pk):
        older, newer = newer, older
    return diff_contracts(stored_document(older), stored_document(newer))
