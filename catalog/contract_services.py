"""Registering contract versions and checking candidates against them.

The engine in ``contracts`` knows documents; this module knows apps: which version
is the base of a diff, how versions are labelled, what is stored and audited.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from catalog import permissions, policies
from catalog.breaking_services import breaking_notices_queue
from catalog.contract_impact import ContractImpact, contract_impact
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


class BreakingNeedsNotice(ValidationError):
    """Breaking changes that touch live dependents, without the migration window or a
    platform override: refused with the rule's message on ``effective_at`` and the impact,
    so the owner sees who would break; nothing stored."""

    code = "breaking_needs_notice"

    def __init__(self, message: str, impact: ContractImpact):
        super().__init__({"effective_at": [message]})
        self.impact = impact


OVERRIDE_DENIED = "Only the platform team may override the migration window."
PAST_EFFECTIVE_AT = "Pick a moment in the future, or leave it empty to take effect at once."


@dataclass
class ContractCheck:
    """What a CI dry run reports: validity, and the changes against the latest version."""

    valid: bool
    errors: list[dict[str, str]]
    spec_version: str
    base_version: str | None
    changes: list[dict[str, Any]] = field(default_factory=list)
    change_counts: dict[str, int] = field(default_factory=dict)
    impact: ContractImpact | None = None
    base_effective_at: datetime | None = None  # the base is scheduled until then

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
            "impact": self.impact.as_dict() if self.impact is not None else None,
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
    """Validate a candidate, diff it against the version an upload would be diffed against
    (:func:`diff_base`) and list who it reaches; writes nothing.

    Loading errors (too large, malformed, forbidden ``$ref``, too deep) raise
    :class:`ContractError`; validation errors are reported in the result.
    """
    document = load_document(content, kind)
    result = validate_contract(document)
    base = diff_base(app=app, kind=document.kind)
    changes, counts = summarise(diff_contracts(stored_document(base), document) if base else [])
    return ContractCheck(
        valid=result.valid,
        errors=result.errors,
        spec_version=result.spec_version,
        base_version=base.version if base else None,
        changes=changes,
        change_counts=counts,
        impact=contract_impact(app=app, changes=changes),
        base_effective_at=base.effective_at if base is not None and base.is_scheduled else None,
    )


def diff_base(*, app: MicroApp, kind: str) -> Contract | None:
    """The version a new upload is compared with: the newest one uploaded, even if it is
    scheduled for later. The owner builds on what they last published; diffing against the
    current version instead would report a scheduled version's breaking changes a second
    time, as if the new upload made them, and restart their migration window."""
    return latest_contract(app=app, kind=kind, include_scheduled=True)


def _effective_at(
    *, base: Contract | None, requested: datetime | None, now: datetime
) -> datetime | None:
    """When the new version takes effect: as requested (None: at once), but never before
    the version it builds on, which it contains."""
    if requested is not None and requested <= now:
        raise ValidationError({"effective_at": PAST_EFFECTIVE_AT})
    inherited = base.effective_at if base is not None and base.is_scheduled else None
    if inherited is not None and (requested is None or requested < inherited):
        return inherited
    return requested


def breaking_findings(
    *, found: ContractImpact, effective_at: datetime | None, now: datetime, override: bool
) -> list[policies.Finding]:
    """The ``breaking-needs-notice`` rule on an upload's facts, as CI evaluates it."""
    facts = replace(
        policies.AppFacts(),
        contract_breaking_changes=found.breaking_changes,
        contract_touched_dependents=len(found.touching),
        contract_notice=effective_at - now if effective_at is not None else None,
        contract_override=override,
    )
    rule = policies.rules_by_id()[policies.BREAKING_NEEDS_NOTICE]
    return policies.evaluate(facts, rules=[rule])


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
    effective_at: datetime | None = None,
    override_reason: str = "",
) -> tuple[Contract, bool]:
    """Store a new immutable version; returns ``(contract, created)``.

    1. Load safely (size, YAML aliases, depth, non-local ``$ref`` are refused first).
    2. Validate, collecting every error; an invalid document is refused, nothing stored.
    3. Identical content (same sha256 of the normalised document) returns the stored one,
       unless that one was withdrawn.
    4. Diff against the newest version of the same kind (:func:`diff_base`); breaking
       changes are stored on the version and recorded in the audit event.
    5. Breaking changes that touch live dependents need ``effective_at`` at least
       ``APPKEEPER_BREAKING_NOTICE_DAYS`` ahead (the version is scheduled) or a platform
       ``override_reason``; otherwise :class:`BreakingNeedsNotice`. The owners of the
       touched dependents get one notice each.
    """
    override_reason = override_reason.strip()
    if override_reason and not permissions.is_platform(actor):
        raise PermissionDenied(OVERRIDE_DENIED)
    document = load_document(content, kind)
    result = validate_contract(document)
    if not result.valid:
        raise ContractInvalid(result.errors)
    # Lock the app row so two uploads of the same app are labelled and diffed in turn.
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    # A withdrawn version does not count: uploading its document again registers it anew
    # (under a new label), with its own diff, window and notices.
    existing = app.contracts.not_withdrawn().filter(sha256=document.sha256).first()
    if existing is not None:
        return existing, False
    base = diff_base(app=app, kind=document.kind)
    changes, counts = summarise(diff_contracts(stored_document(base), document) if base else [])
    breaking = [c for c in changes if c["level"] == "ERR"]
    now = timezone.now()
    effective_at = _effective_at(base=base, requested=effective_at, now=now)
    found = contract_impact(app=app, changes=changes) if breaking else None
    if found is not None:
        refused = breaking_findings(
            found=found, effective_at=effective_at, now=now, override=bool(override_reason)
        )
        if refused:
            raise BreakingNeedsNotice(refused[0].message, found)
    overridden = bool(override_reason and found is not None and found.needs_notice)
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
        effective_at=effective_at,
        override_reason=override_reason if overridden else "",
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
            "effective_at": effective_at.isoformat() if effective_at else None,
            "override_reason": contract.override_reason,
            "dependents_touched": sorted(d.app.slug for d in found.touched) if found else [],
        },
    )
    if found is not None and found.touching:
        breaking_notices_queue(contract=contract, found=found)
    return contract, True


def contract_changelog(older: Contract, newer: Contract) -> list[dict[str, Any]]:
    """Changes between any two stored versions of an app (either order of arguments)."""
    if older.kind != newer.kind:
        raise ValidationError({"against": "An OpenAPI and a GraphQL contract cannot be compared."})
    if (older.created_at, older.pk) > (newer.created_at, newer.pk):
        older, newer = newer, older
    return diff_contracts(stored_document(older), stored_document(newer))
