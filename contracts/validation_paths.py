"""Absolute JSON paths for openapi-spec-validator's errors.

The validator checks each schema, parameter and default value on its own, so an error's
``absolute_path`` is relative to the piece being checked (``$.required`` of *some*
schema). Each keyword validator is subclassed to stamp the errors it yields with the
spot it was checking (the innermost stamp wins); that spot, joined with the error's own
path, is then re-walked through the document so a route through a ``$ref`` becomes the
place the referenced object is written.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import unquote

__all__ = ["absolute_parts", "locating_validators"]

_STAMP = "appkeeper_checked_at"
_MAX_REF_HOPS = 64


def _pointer_parts(ref: str) -> list[str]:
    fragment = unquote(ref[1:]).lstrip("/")
    return (
        [p.replace("~1", "/").replace("~0", "~") for p in fragment.split("/")] if fragment else []
    )


def _child(node: Any, part: Any) -> tuple[bool, Any]:
    if isinstance(node, dict) and part in node:
        return True, node[part]
    if isinstance(node, list) and isinstance(part, str) and part.isdigit():
        part = int(part)  # a JSON pointer spells list indexes as text
    if isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
        return True, node[part]
    return False, None


def _literal_path(tree: Any, parts: list[Any]) -> list[Any]:
    """``parts`` as navigated by the validator, rewritten to where each step is written:
    a step the node does not hold is looked up behind the node's local ``$ref``."""
    path: list[Any] = []
    node = tree
    for index, part in enumerate(parts):
        found, child = _child(node, part)
        hops = 0
        while not found and isinstance(node, dict) and hops < _MAX_REF_HOPS:
            ref = node.get("$ref")
            if not isinstance(ref, str) or not ref.startswith("#"):
                break
            path, node = [], tree
            for raw in _pointer_parts(ref):
                step: Any = int(raw) if isinstance(node, list) and raw.isdigit() else raw
                path.append(step)
                node = _child(node, step)[1]
            found, child = _child(node, part)
            hops += 1
        if not found:
            # Not in the document (a meta-schema keyword the error names): keep the rest
            # as the validator gave it rather than invent a location.
            return path + list(parts[index:])
        path.append(part)
        node = child
    return path


def absolute_parts(tree: Any, error: Any) -> list[Any]:
    """The error's location from the document root, as keys and indexes."""
    checked_at = list(getattr(error, _STAMP, ()))
    relative = list(getattr(error, "absolute_path", None) or [])
    return _literal_path(tree, checked_at + relative)


def _locating(cls: type) -> type:
    from jsonschema_path import SchemaPath
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError
    from openapi_spec_validator.validation.keywords import ValueValidator

    # A default value's errors are relative to the value, which sits under "default".
    suffix = ("default",) if issubclass(cls, ValueValidator) else ()

    def __call__(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        spot = next((a for a in args if isinstance(a, SchemaPath)), None)
        parts = (*spot.parts, *suffix) if spot is not None else None
        for error in cls.__call__(self, *args, **kwargs):
            if not isinstance(error, OpenAPIValidationError):
                # The validator re-wraps foreign errors into new objects on the way out,
                # which would drop the stamp: wrap them here, the same way, first.
                error = OpenAPIValidationError.create_from(error)
            if parts is not None and not hasattr(error, _STAMP):
                setattr(error, _STAMP, parts)
            yield error

    return type(f"Located{cls.__name__}", (cls,), {"__call__": __call__})


def locating_validators(keyword_validators: Mapping[str, type]) -> dict[str, type]:
    """The validator's keyword registry with every class stamping its errors' spot."""
    return {name: _locating(cls) for name, cls in keyword_validators.items()}
