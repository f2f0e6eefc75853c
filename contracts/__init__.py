"""Contract engine: safe loading, validation and breaking-change detection.

Pure Python, no Django: the registry's services and API call these functions and map
:class:`ContractError` subclasses to HTTP status codes. ``load_yaml`` is the one safe YAML
loader, for contracts and for any other YAML a client sends (Backstage catalog files).
"""

from __future__ import annotations

from typing import Any

from .documents import ContractDocument, load_document, load_yaml, scan_yaml
from .errors import (
    ContractError,
    DocumentMalformed,
    DocumentTooLarge,
    ForbiddenRef,
    TooDeep,
    TooManyDocuments,
)
from .openapi_diff.rules import with_current_ids
from .validation import ValidationResult, validate_contract

__all__ = [
    "ContractDocument",
    "ContractError",
    "DocumentMalformed",
    "DocumentTooLarge",
    "ForbiddenRef",
    "TooDeep",
    "TooManyDocuments",
    "ValidationResult",
    "diff_contracts",
    "is_compatible",
    "load_document",
    "load_yaml",
    "scan_yaml",
    "validate_contract",
    "with_current_ids",
]


def _as_document(doc: bytes | str | ContractDocument, kind: str) -> ContractDocument:
    return doc if isinstance(doc, ContractDocument) else load_document(doc, kind)


def diff_contracts(
    old: bytes | str | ContractDocument,
    new: bytes | str | ContractDocument,
    kind: str = "openapi",
) -> list[dict[str, Any]]:
    """Changes from ``old`` to ``new`` as ``{"id", "level", "message", "operation",
    "path", "location"}`` dicts, ``level`` being ERR (breaking), WARN or INFO.

    Documents need not pass validation (a registry may hold old, imperfect contracts),
    but they are always loaded through the safe loader.
    """
    a, b = _as_document(old, kind), _as_document(new, kind)
    if a.kind != b.kind:
        raise ContractError(f"cannot compare a {a.kind} contract with a {b.kind} one")
    if a.kind == "graphql":
        from .graphql_diff import diff_graphql

        return diff_graphql(a.sdl or "", b.sdl or "")
    from .openapi_diff import diff_documents

    return diff_documents(a.data or {}, b.data or {})


def is_compatible(changes: list[dict[str, Any]]) -> bool:
    """True when no change is breaking (ERR). WARN changes need a human, not a block."""
    return not any(change["level"] == "ERR" for change in changes)
