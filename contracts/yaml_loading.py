"""Safe YAML: PyYAML's safe constructors behind an event scan that bounds the tree first.

The scan reads the event stream before anything is composed. It measures nesting and
counts what anchors and aliases would expand to — as integers, never by expanding — so a
billion-laughs payload is refused after reading its few hundred bytes, while the handful of
anchors real documents use (OpenAI's openapi.yaml has three) load as plain YAML.
"""

from __future__ import annotations

from typing import Any, Protocol

import yaml

from .errors import DocumentMalformed, TooDeep, TooManyDocuments
from .limits import MAX_BYTES, MAX_DEPTH

__all__ = [
    "EXPANSION_CEILING",
    "EXPANSION_FLOOR",
    "EXPANSION_RATIO",
    "load_yaml",
    "scan_yaml",
    "where",
]

# Aliases may grow the tree to this many times the nodes actually written in the stream:
# reuse (a shared parameter list, a common error schema) stays well within it, while
# exponential reuse (billion laughs, merge-key bombs) overshoots it after a few levels.
EXPANSION_RATIO = 10
# A short file that reuses one block a few times may exceed ten times its own size; a few
# thousand nodes cost nothing to build, so the bound never goes below this.
EXPANSION_FLOOR = 10_000
# Whatever the ratio allows, aliases never build more nodes than the largest document
# accepted without them could hold (a node takes at least two bytes, as in "1,"), so
# they add no worst case of their own.
EXPANSION_CEILING = MAX_BYTES // 2


def _expansion_bound(nodes: int) -> int:
    return min(max(EXPANSION_RATIO * nodes, EXPANSION_FLOOR), EXPANSION_CEILING)


class _Mark(Protocol):
    """Where PyYAML found something (its pure-Python and libyaml marks alike)."""

    line: int
    column: int


def where(mark: _Mark | None) -> str:
    """A mark as people count lines and columns; "$" (the whole document) without one."""
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else "$"


def _yaml_error(exc: yaml.YAMLError) -> DocumentMalformed | TooDeep:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc)
    location = where(mark)
    if "maximum nesting depth" in str(problem):
        # libyaml's own limit (1000 levels) can trip while it scans ahead, before our
        # event walk reaches level 201: it is the same failure.
        return TooDeep([{"path": location, "message": f"nesting deeper than {MAX_DEPTH}"}])
    return DocumentMalformed([{"path": location, "message": f"invalid YAML: {problem}"}])


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
            [{"path": where(node.start_mark), "message": f"invalid {what}: {exc}"}]
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


def _refusal(event: yaml.Event, message: str) -> DocumentMalformed:
    return DocumentMalformed([{"path": where(event.start_mark), "message": message}])


class _Expansion:
    """What the stream would build once every alias is replaced by its anchored node.

    Each open collection keeps its expanded node count and height; when it closes they
    pass to its parent and, if it carries an anchor, are remembered under that anchor, so
    an alias adds a known size in constant time. An alias to a node still open is
    recursion (a node containing itself): refused, as is an alias to no anchor.
    """

    def __init__(self, text_length: int) -> None:
        # Until the stream ends its own node count is unknown, but it cannot exceed the
        # text's length: past that bound an expansion is refused without reading further.
        self.early_limit = _expansion_bound(text_length)
        self.own = 0
        self.expanded = 0
        self.aliases = 0
        self.anchors: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, height)
        self.open: list[tuple[str | None, int, int]] = []  # (anchor, nodes, height)
        self.open_anchors: set[str] = set()

    def new_document(self) -> None:
        self.anchors.clear()  # YAML anchors are scoped to their document

    def _into_parent(self, nodes: int, height: int) -> None:
        if self.open:
            anchor, size, tallest = self.open[-1]
            self.open[-1] = (anchor, size + nodes, max(tallest, height + 1))

    def scalar(self, event: yaml.ScalarEvent) -> None:
        self.own += 1
        self.expanded += 1
        if event.anchor:
            self.anchors[event.anchor] = (1, 0)
        self._into_parent(1, 0)

    def start(self, event: yaml.CollectionStartEvent) -> None:
        self.own += 1
        self.expanded += 1
        if event.anchor:
            self.open_anchors.add(event.anchor)
        self.open.append((event.anchor, 1, 1))

    def end(self) -> None:
        anchor, nodes, height = self.open.pop()
        if anchor:
            self.open_anchors.discard(anchor)
            self.anchors[anchor] = (nodes, height)
        self._into_parent(nodes, height)

    def alias(self, event: yaml.AliasEvent, depth: int) -> None:
        self.own += 1
        self.aliases += 1
        name = event.anchor
        if name in self.open_anchors:
            raise _refusal(event, f"YAML alias *{name} is recursive (it refers to itself)")
        if name not in self.anchors:
            raise _refusal(event, f"YAML alias *{name} refers to no anchor")
        nodes, height = self.anchors[name]
        self.expanded += nodes
        self._into_parent(nodes, height)
        if self.expanded > self.early_limit:
            raise _refusal(event, self._too_big(self.early_limit))
        if depth + height > MAX_DEPTH:
            raise TooDeep(
                [
                    {
                        "path": where(event.start_mark),
                        "message": f"alias *{name} nests the document deeper than "
                        f"{MAX_DEPTH} levels",
                    }
                ]
            )

    def check_total(self) -> None:
        """At the end of the stream, against the nodes it actually holds."""
        limit = _expansion_bound(self.own)
        if self.expanded > limit:
            raise DocumentMalformed([{"path": "$", "message": self._too_big(limit)}])

    def _too_big(self, limit: int) -> str:
        return (
            f"YAML anchors and aliases expand to more than {limit:,} nodes "
            f"({self.aliases:,} aliases read; the bound is {EXPANSION_RATIO} times the "
            f"document's own nodes, at least {EXPANSION_FLOOR:,} and at most "
            f"{EXPANSION_CEILING:,})"
        )


def _scan_events(
    text: str, loader: type, max_documents: int | None = None, root_keys: tuple[str, ...] = ()
) -> int:
    """Walk the event stream: bound what aliases expand to, refuse nesting deeper than
    MAX_DEPTH.

    This runs before anything is composed, so a billion-laughs payload fails at the alias
    that takes it over the bound and a deeply nested one fails without building (or
    recursing into) a tree.
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
    expansion = _Expansion(len(text))
    for event in yaml.parse(text, Loader=loader):
        if isinstance(event, yaml.ScalarEvent):
            expansion.scalar(event)
        elif isinstance(event, yaml.CollectionStartEvent):
            expansion.start(event)
        elif isinstance(event, yaml.CollectionEndEvent):
            expansion.end()
        elif isinstance(event, yaml.AliasEvent):
            expansion.alias(event, depth)
        elif isinstance(event, yaml.DocumentStartEvent):
            expansion.new_document()
        if depth == 0 and isinstance(event, yaml.NodeEvent) and not _is_null_root(event):
            documents += 1
            if max_documents is not None and documents > max_documents:
                raise TooManyDocuments(max_documents)
            if root_keys and not isinstance(event, yaml.MappingStartEvent):
                raise DocumentMalformed(
                    [
                        {
                            "path": where(event.start_mark),
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
                                "path": where(event.start_mark),
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
                            "path": where(event.start_mark),
                            "message": f"document nests deeper than {MAX_DEPTH} levels",
                        }
                    ]
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    expansion.check_total()
    return documents


def load_yaml(text: str, *, multi: bool = False, max_documents: int | None = None) -> Any:
    """Parse YAML that may be hostile, with PyYAML's safe constructors.

    Anchors and aliases are allowed up to a bound on what they expand to (billion laughs
    and merge-key bombs are refused), nesting deeper than ``MAX_DEPTH`` is refused, both
    before a tree is built; libyaml is used when PyYAML
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
    """Check a YAML stream without building it: syntax, what anchors and aliases expand
    to, depth, at most ``max_documents`` non-empty documents, and with ``root_keys`` that
    each is a mapping holding those keys; returns how many documents it holds. Several times cheaper
    than loading, for a caller that loads the stream later (elsewhere). Raises like
    :func:`load_yaml`."""
    try:
        return _scan_events(text, _safe_loader(), max_documents, root_keys)
    except yaml.YAMLError as exc:
        raise _yaml_error(exc) from exc
