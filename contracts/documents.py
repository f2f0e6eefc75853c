"""Safe loading, normalisation and hashing of contract documents.

Everything here treats the input as hostile: size is checked before parsing, what YAML
aliases expand to is bounded before anything is composed (billion laughs, see
:mod:`.yaml_loading`), nesting is measured iteratively (no RecursionError), and every
non-local ``$ref`` in a reference position is refused before any validator that might
follow it runs (no outbound connection, no file read); a ``$ref`` inside example values,
enums, defaults or extensions is data (:mod:`.ref_positions`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

from .errors import DocumentMalformed, DocumentTooLarge, ForbiddenRef, TooDeep
from .limits import MAX_BYTES, MAX_DEPTH
from .ref_positions import Role, child_role
from .yaml_loading import load_yaml, scan_yaml

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "ContractDocument",
    "canonical_json",
    "json_path",
    "load_document",
    "load_yaml",
    "parse_openapi_text",
    "scan_yaml",
]


@dataclass(frozen=True)
class ContractDocument:
    """A loaded, checked and normalised contract document."""

    kind: str  # "openapi" | "graphql"
    spec_version: str  # "2.0", "3.0.3", "3.1.0", "graphql"
    data: dict[str, Any] | None  # the OpenAPI tree (None for GraphQL)
    sdl: str | None  # printed GraphQL schema (None for OpenAPI)
    normalised: str  # canonical JSON or printed SDL: what is stored and hashed
    sha256: str


def json_path(parts: tuple[Any, ...] | list[Any]) -> str:
    """Render a key/index sequence as ``$.paths./pets.get.responses[0]``."""
    out = ["$"]
    for part in parts:
        out.append(f"[{part}]" if isinstance(part, int) else f".{part}")
    return "".join(out)


def canonical_json(data: Any) -> str:
    """Sorted keys, compact separators: key order and whitespace do not change the hash."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


NUL_MESSAGE = "NUL characters (\\0, \\u0000) are not allowed in a contract"


def _to_text(data: bytes | str) -> str:
    if isinstance(data, bytes | bytearray | memoryview):
        raw = bytes(data)
        if len(raw) > MAX_BYTES:
            raise DocumentTooLarge(f"document is {len(raw)} bytes; the limit is {MAX_BYTES}")
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise DocumentMalformed(f"document is not UTF-8: {exc}") from exc
    else:
        # Count encoded size for str too, so the limit means the same thing for both inputs.
        if len(data) > MAX_BYTES // 4 and len(data.encode("utf-8")) > MAX_BYTES:
            raise DocumentTooLarge(f"document is larger than the limit of {MAX_BYTES} bytes")
        text = data
    # PostgreSQL text and JSON cannot hold NUL: refuse it here rather than fail on save.
    if "\x00" in text:
        raise DocumentMalformed(NUL_MESSAGE)
    return text


def _load_json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise DocumentMalformed([{"path": where, "message": f"invalid JSON: {exc.msg}"}]) from exc
    except RecursionError as exc:
        raise TooDeep(f"document nests deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:  # an integer over Python's int-string conversion limit
        raise DocumentMalformed([{"path": "$", "message": f"invalid JSON: {exc}"}]) from None


def _scalar(value: Any) -> Any:
    """A JSON scalar for a parsed YAML/JSON scalar; other YAML types are refused."""
    if isinstance(value, str) and "\x00" in value:
        # Escapes ("\0" in YAML, "\u0000" in JSON) decode to NUL, which PostgreSQL cannot store.
        raise DocumentMalformed(NUL_MESSAGE)
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        raise DocumentMalformed("NaN and infinite numbers are not valid in a contract")
    # YAML turns unquoted dates into date objects; JSON has no such type.
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    # !!binary, !!set and friends have no JSON equivalent (and no place in OpenAPI).
    raise DocumentMalformed(f"unsupported YAML value of type {type(value).__name__}")


def _key(key: Any) -> str:
    """Mapping keys as JSON would spell them (YAML allows ``200:``, ``true:``, ``~:``)."""
    value = _scalar(key)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _normalise_tree(root: Any) -> tuple[Any, list[dict[str, str]]]:
    """Copy the tree with string keys and JSON scalars, checking depth and ``$ref``s.

    Iterative (explicit stack) so that depth is reported as an error, never as a crash.
    A container reached twice (a YAML alias) is copied at each place: the YAML scan has
    already bounded what aliases expand to, and a copy keeps the stored JSON a tree.
    Returns the new tree and the list of forbidden-ref errors.
    """
    bad_refs: list[dict[str, str]] = []
    swagger2 = isinstance(root, dict) and "swagger" in root

    def make(node: Any) -> Any:
        if isinstance(node, dict):
            return {}
        if isinstance(node, list):
            return [None] * len(node)
        return _scalar(node)

    out_root = make(root)
    # Stack items: (source node, target container, json path parts, depth, role).
    stack: list[tuple[Any, Any, tuple[Any, ...], int, Role]] = [
        (root, out_root, (), 1, Role.OBJECT)
    ]
    while stack:
        node, target, path, depth, role = stack.pop()
        if isinstance(node, dict):
            try:
                keys = [_key(k) for k in node]
            except DocumentMalformed as exc:
                raise DocumentMalformed(
                    [{"path": json_path(path), "message": e["message"]} for e in exc.errors]
                ) from None
            items: Any = zip(keys, node.values(), strict=True)
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            continue
        for key, value in items:
            is_ref = key == "$ref" and isinstance(node, dict) and isinstance(value, str)
            if is_ref and role is not Role.DATA and not value.startswith("#"):
                bad_refs.append(
                    {
                        "path": json_path((*path, key)),
                        "message": f"external $ref {value!r} is not allowed; "
                        "only local references (starting with '#') are",
                    }
                )
            try:
                child = make(value)
            except DocumentMalformed as exc:
                raise DocumentMalformed(
                    [{"path": json_path((*path, key)), "message": e["message"]} for e in exc.errors]
                ) from None
            target[key] = child
            if isinstance(value, dict | list):
                # Count every container, empty ones too: "[[[]]]" is three levels deep.
                if depth + 1 > MAX_DEPTH:
                    raise TooDeep(
                        [
                            {
                                "path": json_path((*path, key)),
                                "message": f"nesting deeper than {MAX_DEPTH}",
                            }
                        ]
                    )
                if value:
                    sub_role = child_role(role, key, value, swagger2)
                    stack.append((value, child, (*path, key), depth + 1, sub_role))
    return out_root, bad_refs


def _detect_openapi_version(data: Any) -> str:
    if not isinstance(data, dict):
        raise DocumentMalformed("an OpenAPI document must be a mapping at the top level")
    swagger = data.get("swagger")
    if swagger is not None:
        if str(swagger) != "2.0":
            raise DocumentMalformed([{"path": "$.swagger", "message": "only 2.0 is supported"}])
        return "2.0"
    openapi = data.get("openapi")
    if openapi is None:
        raise DocumentMalformed(
            [{"path": "$", "message": "missing 'openapi' or 'swagger' version field"}]
        )
    version = str(openapi)
    if not version.startswith(("3.0", "3.1")):
        raise DocumentMalformed(
            [{"path": "$.openapi", "message": f"unsupported OpenAPI version {version!r}"}]
        )
    return version


def parse_openapi_text(text: str) -> dict[str, Any]:
    """Parse JSON or YAML text into a checked, normalised tree (no version detection)."""
    stripped = text.lstrip()
    data = _load_json(text) if stripped.startswith(("{", "[")) else load_yaml(text)
    tree, bad_refs = _normalise_tree(data)
    if bad_refs:
        raise ForbiddenRef(bad_refs)
    if not isinstance(tree, dict):
        raise DocumentMalformed("an OpenAPI document must be a mapping at the top level")
    return tree


def _load_graphql(text: str) -> ContractDocument:
    from graphql import GraphQLError, build_schema, print_schema

    try:
        schema = build_schema(text)
    except GraphQLError as exc:
        errors = []
        for loc in exc.locations or []:
            errors.append({"path": f"line {loc.line}, column {loc.column}", "message": exc.message})
        raise DocumentMalformed(errors or [{"path": "$", "message": exc.message}]) from exc
    except RecursionError as exc:
        raise TooDeep("GraphQL document nests too deeply") from exc
    except TypeError as exc:  # graphql-core raises TypeError for some semantic errors
        raise DocumentMalformed(str(exc)) from exc
    printed = print_schema(schema)
    return ContractDocument(
        kind="graphql",
        spec_version="graphql",
        data=None,
        sdl=printed,
        normalised=printed,
        sha256=hashlib.sha256(printed.encode("utf-8")).hexdigest(),
    )


def load_document(data: bytes | str, kind: str | None = None) -> ContractDocument:
    """Load a contract document safely.

    ``kind`` is ``"openapi"``, ``"graphql"`` or ``None`` (guess: SDL unless the text
    looks like JSON or carries an ``openapi:``/``swagger:`` key).
    Raises a :class:`~contracts.errors.ContractError` subclass on any problem.
    """
    text = _to_text(data)
    if kind is None:
        kind = _guess_kind(text)
    if kind == "graphql":
        return _load_graphql(text)
    if kind != "openapi":
        raise DocumentMalformed(f"unknown contract kind {kind!r}")
    tree = parse_openapi_text(text)
    version = _detect_openapi_version(tree)
    normalised = canonical_json(tree)
    return ContractDocument(
        kind="openapi",
        spec_version=version,
        data=tree,
        sdl=None,
        normalised=normalised,
        sha256=hashlib.sha256(normalised.encode("utf-8")).hexdigest(),
    )


def _guess_kind(text: str) -> str:
    head = text.lstrip()[:4096]
    if head.startswith("{") or "openapi" in head or "swagger" in head:
        return "openapi"
    return "graphql"
