"""SCIM filters (RFC 7644 §3.4.2.2) parsed into a small tree and compiled to a Django ``Q``.

Supported: ``eq ne co sw ew pr``, ``and``, ``or``, ``not (...)``, parentheses and value
paths (``emails[value eq "x"]``, ``members[value eq "12"]``). Attribute names match
case-insensitively and may carry the core schema's URN. Anything else is a 400
``invalidFilter`` naming what was not understood, never a silently wider result.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from django.db.models import Q

from identity.scim.errors import invalid_filter

MAX_LENGTH = 2000
MAX_NESTING = 16
COMPARISONS = frozenset({"eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"})
SUPPORTED = frozenset({"eq", "ne", "co", "sw", "ew"})
CORE_SCHEMA_PREFIX = re.compile(r"^urn:ietf:params:scim:schemas:core:2\.0:(user|group):", re.I)

_TOKEN = re.compile(
    r'\s*(?:(?P<string>"(?:[^"\\]|\\.)*")|(?P<punct>[()\[\]])|(?P<word>[A-Za-z0-9_:.$+\-]+))'
)


@dataclass(frozen=True)
class Field:
    """Where a SCIM attribute lives: the ORM lookup and how values compare."""

    lookup: str
    kind: str = "text"  # text (case-insensitive), exact (case-sensitive), id, boolean


def normalise_path(path: str) -> str:
    return CORE_SCHEMA_PREFIX.sub("", path).lower()


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise invalid_filter(f"Unexpected character at position {position + 1} of the filter.")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens = tokenize(text)
        self.position = 0
        self.depth = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.position] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        token = self.peek()
        if token is None:
            raise invalid_filter("The filter ends too early.")
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        kind, text = self.take()
        if text != value:
            raise invalid_filter(f"Expected {value!r} in the filter, found {text!r}.")

    def keyword(self, word: str) -> bool:
        token = self.peek()
        if token and token[0] == "word" and token[1].lower() == word:
            self.position += 1
            return True
        return False

    def parse(self):
        tree = self.disjunction()
        leftover = self.peek()
        if leftover is not None:
            raise invalid_filter(f"Unexpected {leftover[1]!r} in the filter.")
        return tree

    def disjunction(self):
        tree = self.conjunction()
        while self.keyword("or"):
            tree = ("or", tree, self.conjunction())
        return tree

    def conjunction(self):
        tree = self.factor()
        while self.keyword("and"):
            tree = ("and", tree, self.factor())
        return tree

    def nested(self, closing: str):
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise invalid_filter(f"The filter nests more than {MAX_NESTING} levels deep.")
        tree = self.disjunction()
        self.expect(closing)
        self.depth -= 1
        return tree

    def factor(self):
        if self.keyword("not"):
            self.expect("(")
            return ("not", self.nested(")"))
        kind, text = self.take()
        if text == "(":
            return self.nested(")")
        if kind != "word":
            raise invalid_filter(f"Expected an attribute name in the filter, found {text!r}.")
        path = normalise_path(text)
        if self.peek() == ("punct", "["):
            self.take()
            sub = self.nested("]")
            return ("within", path, sub)
        kind, operator = self.take()
        operator = operator.lower()
        if operator == "pr":
            return ("pr", path)
        if operator not in COMPARISONS:
            raise invalid_filter(f"Unknown operator {operator!r} in the filter.")
        return ("compare", path, operator, self.value())

    def value(self):
        kind, text = self.take()
        if kind == "string":
            try:
                return json.loads(text)
            except ValueError:
                raise invalid_filter(f"Invalid string {text} in the filter.") from None
        lowered = text.lower()
        if lowered in ("true", "false"):
            return lowered == "true"
        if lowered == "null":
            return None
        if re.fullmatch(r"-?\d+(\.\d+)?", text):
            return text
        raise invalid_filter(f"Expected a value in the filter, found {text!r}.")


def parse(text: str):
    if len(text) > MAX_LENGTH:
        raise invalid_filter(f"The filter is longer than {MAX_LENGTH} characters.")
    if not text.strip():
        raise invalid_filter("The filter is empty.")
    return _Parser(text).parse()


def compile_filter(text: str, fields: dict[str, Field]) -> Q:
    """The ``Q`` that selects what ``text`` asks for, given the resource's ``fields``."""
    return _compile(parse(text), fields, prefix="")


def _compile(tree, fields: dict[str, Field], prefix: str) -> Q:
    head = tree[0]
    if head == "and":
        return _compile(tree[1], fields, prefix) & _compile(tree[2], fields, prefix)
    if head == "or":
        return _compile(tree[1], fields, prefix) | _compile(tree[2], fields, prefix)
    if head == "not":
        return ~_compile(tree[1], fields, prefix)
    if head == "within":
        return _compile(tree[2], fields, prefix=f"{prefix}{tree[1]}.")
    field = _field(prefix + tree[1], fields)
    if head == "pr":
        return Q(**{f"{field.lookup}__isnull": False}) & ~Q(**{field.lookup: ""})
    _, path, operator, value = tree
    if operator not in SUPPORTED:
        raise invalid_filter(f"The operator {operator!r} is not supported on {path!r}.")
    return _comparison(field, path, operator, value)


def _field(path: str, fields: dict[str, Field]) -> Field:
    field = fields.get(path)
    if field is None:
        known = ", ".join(sorted(fields))
        raise invalid_filter(f"Filtering by {path!r} is not supported; use one of: {known}.")
    return field


def _comparison(field: Field, path: str, operator: str, value) -> Q:
    if field.kind == "boolean":
        if operator not in ("eq", "ne") or not isinstance(value, bool):
            raise invalid_filter(f"{path!r} compares with eq or ne and true or false.")
        matched = Q(**{field.lookup: value})
        return matched if operator == "eq" else ~matched
    if value is None or isinstance(value, bool):
        raise invalid_filter(f"{path!r} compares with a string.")
    value = str(value)
    if field.kind == "id":
        if operator not in ("eq", "ne"):
            raise invalid_filter(f"{path!r} compares with eq or ne only.")
        # An id that is not a number names nothing here: no match rather than an error.
        number = re.fullmatch(r"[0-9]{1,18}", value)
        matched = Q(**{field.lookup: int(value)}) if number else Q(pk__in=[])
        return matched if operator == "eq" else ~matched
    insensitive = "i" if field.kind == "text" else ""
    lookup = {
        "eq": f"{insensitive}exact",
        "ne": f"{insensitive}exact",
        "co": f"{insensitive}contains",
        "sw": f"{insensitive}startswith",
        "ew": f"{insensitive}endswith",
    }[operator]
    matched = Q(**{f"{field.lookup}__{lookup}": value})
    return ~matched if operator == "ne" else matched
