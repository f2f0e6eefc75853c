"""Validation of contract documents, collecting every error with its absolute JSON path.

Validation is a pure function of the normalised document, so results are kept in a
small in-process cache keyed by its sha256, spec version and the validator's version:
the dry-run check and the upload that follows it validate a multi-megabyte document once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .documents import ContractDocument, json_path, load_document
from .validation_cache import ValidationCache, validator_versions
from .validation_paths import absolute_parts, locating_validators

__all__ = [
    "ValidationResult",
    "clear_validation_cache",
    "validate_contract",
    "validate_openapi_tree",
]

# Cap the list: a badly broken document can yield thousands of errors, and nobody reads
# past the first screenful; the count still tells the user how bad it is.
MAX_ERRORS = 200


@dataclass
class ValidationResult:
    """Outcome of validating one document."""

    valid: bool
    errors: list[dict[str, str]] = field(default_factory=list)
    spec_version: str = ""
    normalised: str = ""
    sha256: str = ""
    document: ContractDocument | None = None


_OFFLINE: dict[type, type] = {}
_RESULTS = ValidationCache()


def _clear_validator_cache(cls: type) -> None:
    """Drop openapi-spec-validator's memo of ``iter_errors``.

    The library decorates ``iter_errors`` with an unbounded ``lru_cache`` keyed by the
    validator instance, which would keep every uploaded document alive for the life of
    the worker process.
    """
    func: Any = getattr(cls, "iter_errors", None)
    while func is not None:
        if hasattr(func, "cache_clear"):
            func.cache_clear()
            return
        func = getattr(func, "__wrapped__", None)


def _validator_class(spec_version: str) -> type:
    from openapi_spec_validator import (
        OpenAPIV2SpecValidator,
        OpenAPIV30SpecValidator,
        OpenAPIV31SpecValidator,
    )

    if spec_version == "2.0":
        base: Any = OpenAPIV2SpecValidator
    elif spec_version.startswith("3.0"):
        base = OpenAPIV30SpecValidator
    else:
        base = OpenAPIV31SpecValidator

    # No resolver handlers: even though documents.py refuses non-local $refs first, the
    # validator must never be able to open a URL or a file (defence in depth).
    # The keyword validators are wrapped so each error says where in the document it is.
    if base not in _OFFLINE:
        _OFFLINE[base] = type(
            f"Offline{base.__name__}",
            (base,),
            {
                "resolver_handlers": {},
                "keyword_validators": locating_validators(base.keyword_validators),
            },
        )
    return _OFFLINE[base]


def _message(error: Any) -> str:
    """The error's first line; for oneOf/anyOf, the closest alternative's reason too."""
    message = str(getattr(error, "message", error)).splitlines()[0]
    context = getattr(error, "context", None)
    if context:
        from jsonschema.exceptions import best_match  # type: ignore[import-untyped]

        closest = best_match(context)
        if closest is not None:
            # Its path is relative to the value the alternatives were tried on.
            inside = json_path(list(closest.relative_path))[1:]
            under = f" at {inside}" if inside else ""
            message += f" (closest: {str(closest.message).splitlines()[0]}{under})"
    return message


def validate_openapi_tree(tree: dict[str, Any], spec_version: str) -> list[dict[str, str]]:
    """Run openapi-spec-validator and return all errors as ``{"path", "message"}``, each
    path from the document root; only exact duplicates (same path, same message) merge."""
    cls = _validator_class(spec_version)
    validator = cls(tree)
    errors: list[dict[str, str]] = []
    seen: set[tuple[str, str]] = set()
    try:
        for err in validator.iter_errors():
            path = json_path(absolute_parts(tree, err))
            message = _message(err)
            if (path, message) in seen:
                continue
            seen.add((path, message))
            errors.append({"path": path, "message": message})
            if len(errors) >= MAX_ERRORS:
                break
    except Exception as exc:  # noqa: BLE001 - the validator raises unresolvable-ref errors
        errors.append({"path": "$", "message": f"validator failed: {exc}"})
    finally:
        _clear_validator_cache(cls)
    return errors


def _validate_graphql(document: ContractDocument) -> list[dict[str, str]]:
    from graphql import build_schema, validate_schema

    schema = build_schema(document.sdl or "")
    errors = []
    for err in validate_schema(schema):
        locs = err.locations or []
        where = f"line {locs[0].line}, column {locs[0].column}" if locs else "$"
        errors.append({"path": where, "message": err.message})
    return errors


def validate_contract(
    data: bytes | str | ContractDocument, kind: str | None = None
) -> ValidationResult:
    """Load (if needed) and validate a document.

    Loading problems (size, malformed, forbidden ``$ref``, depth) still raise their
    :class:`ContractError` so the caller can pick the status code; validation problems
    are returned in ``errors`` — all of them, not just the first.
    """
    document = data if isinstance(data, ContractDocument) else load_document(data, kind)
    key = (document.sha256, document.spec_version, validator_versions())
    errors = _RESULTS.get(key)
    if errors is None:
        if document.kind == "graphql":
            errors = _validate_graphql(document)
        else:
            errors = validate_openapi_tree(document.data or {}, document.spec_version)
        _RESULTS.put(key, errors)
    return ValidationResult(
        valid=not errors,
        errors=[dict(e) for e in errors],
        spec_version=document.spec_version,
        normalised=document.normalised,
        sha256=document.sha256,
        document=document,
    )


def clear_validation_cache() -> None:
    """Forget every cached result (benchmarks time a cold validation with it)."""
    _RESULTS.clear()
