"""Safe loading, normalisation and hashing of contract documents.

Everything here treats the input as hostile: size is checked before parsing, YAML
anchors/aliases are refused before anything is composed (billion laughs), nesting is
measured iteratively (no RecursionError), and every non-local ``$ref`` is refused before
any validator that might follow it runs (no outbound connection, no file read).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any, Protocol

import yaml

from .errors import DocumentMalformed, DocumentTooLarge, ForbiddenRef, TooDeep, TooManyDocuments

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

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 200


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


class _Mark(Protocol):
    """Where PyYAML found something (its pure-Python and libyaml marks alike)."""

    line: int
    column: int


def _where(mark: _Mark | None) -> str:
    """A mark as people count lines and columns; "$" (the whole document) without one."""
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "$"


def _refuse_anchor(event: yaml.Event) -> None:
    if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
        raise DocumentMalformed(
            [
                {
                    "path": _where(event.start_mark),
                    "message": "YAML anchors and aliases are not allowed",
                }
            ]
        )


def _yaml_error(exc: yaml.YAMLError) -> DocumentMalformed | TooDeep:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    where = _where(mark)
    if "maximum nesting depth" in str(problem):
        # libyaml's own limit (1000 levels) can trip while it scans ahead, before our
        # event walk reaches level 201: it is the same failure.
        return TooDeep([{"path": where, "message": f"nesting deeper than {MAX_DEPTH}"}])
    return DocumentMalformed([{"path": where, "message": f"invalid YAML: {problem}"}])


def _safe_loader() -> type:
    """libyaml's safe loader when PyYAML was built with it (much faster on big documents),
    else the pure-Python one; looked up per call, so both paths stay testable."""
    return getattr(yaml, "CSafeLoader", None) or yaml.SafeLoader


def _construct_checked(loader: Any, node: Any, construct: Any, what: str) -> Any:
    """Run one of PyYAML's scalar constructors; a ValueError becomes a located refusal.

    PyYAML raises ValueError, not a YAMLError, for a timestamp such as ``2024-13-45`` and
    for an integer longer than Python's int-string conversion limit.
    """
    try:
        return construct(loader, node)
    except ValueError as exc:
        raise DocumentMalformed(
            [{"path": _where(node.start_mark), "message": f"invalid {what}: {exc}"}]
        ) from None


def _checked_timestamp(loader: Any, node: Any) -> Any:
    return _construct_checked(loader, node, yaml.SafeLoader.construct_yaml_timestamp, "date")


def _checked_int(loader: Any, node: Any) -> Any:
    return _construct_checked(loader, node, yaml.SafeLoader.construct_yaml_int, "integer")


def _checked_loader(base: type) -> type:
    """``base`` with the timestamp and integer constructors wrapped (public add_constructor)."""
    loader = type(f"Checked{base.__name__}", (base,), {})
    loader.add_constructor("tag:yaml.org,2002:timestamp", _checked_timestamp)  # type: ignore[attr-defined]
    loader.add_constructor("tag:yaml.org,2002:int", _checked_int)  # type: ignore[attr-defined]
    return loader


def _is_null_root(event: yaml.Event) -> bool:
    """The root of an empty document (``---`` followed by nothing, or a bare ``~``)."""
    return (
        isinstance(event, yaml.ScalarEvent)
        and event.implicit[0]
        and event.value in ("", "~", "null", "Null", "NULL")
    )


def _scan_events(
    text: str, loader: type, max_documents: int | None = None, root_keys: tuple[str, ...] = ()
) -> int:
    """Walk the event stream: refuse anchors/aliases and nesting deeper than MAX_DEPTH.

    This runs before anything is composed, so a billion-laughs payload fails at its first
    anchor and a deeply nested one fails without building (or recursing into) a tree.
    The parser keeps its own stack, so this walk never recurses, whichever loader runs.
    Documents are counted at their root node, so a stream over ``max_documents`` stops
    being read at the first document too many, however long the rest of it is.
    With ``root_keys``, each document must be a mapping holding those keys: the keys of the
    root mapping are the scalars at depth one in key position, read as they stream past.
    """
    depth = 0
    documents = 0
    keys: set[str] = set()
    expect_key = False
    for event in yaml.parse(text, Loader=loader):
        _refuse_anchor(event)
        if depth == 0 and isinstance(event, yaml.NodeEvent) and not _is_null_root(event):
            documents += 1
            if max_documents is not None and documents > max_documents:
                raise TooManyDocuments(max_documents)
            if root_keys and not isinstance(event, yaml.MappingStartEvent):
                raise DocumentMalformed(
                    [
                        {
                            "path": _where(event.start_mark),
                            "message": f"document {documents} is not a mapping",
                        }
                    ]
                )
            keys, expect_key = set(), True
        elif root_keys and depth == 1:
            if isinstance(event, yaml.MappingEndEvent):
                missing = [key for key in root_keys if key not in keys]
                if missing:
                    raise DocumentMalformed(
                        [
                            {
                                "path": _where(event.start_mark),
                                "message": f"document {documents} has no {', '.join(missing)}",
                            }
                        ]
                    )
            elif expect_key:
                if isinstance(event, yaml.ScalarEvent):
                    keys.add(event.value)
                expect_key = False
            elif isinstance(event, yaml.ScalarEvent):
                expect_key = True  # a scalar value: the next event is a key
        elif (
            root_keys
            and depth == 2
            and isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent)
        ):
            expect_key = True  # a collection value ended: back to the root's keys
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise TooDeep(
                    [
                        {
                            "path": _where(event.start_mark),
                            "message": f"document nests deeper than {MAX_DEPTH} levels",
                        }
                    ]
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    return documents


def load_yaml(text: str, *, multi: bool = False, max_documents: int | None = None) -> Any:
    """Parse YAML that may be hostile, with PyYAML's safe constructors.

    Anchors and aliases are refused (billion laughs, merge-key bombs) and so is nesting
    deeper than ``MAX_DEPTH``, both before a tree is built; libyaml is used when PyYAML
    has it, the pure-Python parser otherwise, with the same checks. Returns the one
    document, or with ``multi`` the list of every document in the stream (an empty one
    as None). ``max_documents`` bounds the non-empty documents of a stream: the scan stops
    at the first one over and raises :class:`TooManyDocuments`, before any tree is built.
    Raises :class:`DocumentMalformed` or :class:`TooDeep`.
    """
    loader = _safe_loader()
    try:
        _scan_events(text, loader, max_documents)
        docs = list(yaml.load_all(text, Loader=_checked_loader(loader)))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from exc
    except ValueError as exc:  # any other scalar a constructor cannot build
        raise DocumentMalformed([{"path": "$", "message": f"invalid YAML value: {exc}"}]) from None
    except RecursionError as exc:  # belt and braces: the scan bounds the composer's depth
        raise TooDeep(f"document nests deeper than {MAX_DEPTH} levels") from exc
    if multi:
        return docs
    if not docs:
        raise DocumentMalformed("the document is empty")
    if len(docs) != 1:
        raise DocumentMalformed(f"expected exactly one YAML document, found {len(docs)}")
    return docs[0]


def scan_yaml(
    text: str, *, max_documents: int | None = None, root_keys: tuple[str, ...] = ()
) -> int:
    """Check a YAML stream without building it: syntax, anchors and aliases, depth, at
    most ``max_documents`` non-empty documents, and with ``root_keys`` that each is a
    mapping holding those keys; returns how many documents it holds. Several times cheaper
    than loading, for a caller that loads the stream later (elsewhere). Raises like
    :func:`load_yaml`."""
    try:
        return _scan_events(text, _safe_loader(), max_documents, root_keys)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from exc


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
    Returns the new tree and the list of forbidden-ref errors.
    """
    bad_refs: list[dict[str, str]] = []
    # A container reached twice is a YAML alias that slipped past the event scan; walking
    # it again is exactly how a billion-laughs document explodes, so refuse it.
    seen: set[int] = set()

    def make(node: Any) -> Any:
        if isinstance(node, dict):
            return {}
        if isinstance(node, list):
            return [None] * len(node)
        return _scalar(node)

    out_root = make(root)
    # Stack items: (source node, target container, json path parts, depth).
    stack: list[tuple[Any, Any, tuple[Any, ...], int]] = [(root, out_root, (), 1)]
    while stack:
        node, target, path, depth = stack.pop()
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
            if is_ref and not value.startswith("#"):
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
                if id(value) in seen:
                    raise DocumentMalformed(
                        [
                            {
                                "path": json_path((*path, key)),
                                "message": "YAML anchors and aliases are not allowed",
                            }
                        ]
                    )
                seen.add(id(value))
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
                    stack.append((value, child, (*path, key), depth + 1))
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
