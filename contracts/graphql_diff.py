"""Breaking/dangerous change detection between two GraphQL SDL documents.

graphql-core already implements the reference algorithm; this module only maps its
change types onto the same change-dict shape the OpenAPI engine produces.
"""

from __future__ import annotations

import re
from typing import Any

from graphql import GraphQLSchema, build_schema
from graphql.utilities import find_breaking_changes, find_dangerous_changes

__all__ = ["diff_graphql"]

# The schema coordinate a message talks about: "Query.user", "Color.RED", "@auth", or a
# bare type name at the start ("User was removed.").
_DOTTED = re.compile(r"[_A-Za-z]\w*\.[_A-Za-z]\w*(?:\(\w+:\))?")
_DIRECTIVE = re.compile(r"@\w+")
_LEADING = re.compile(r"^[_A-Za-z]\w*")


def _subject(description: str) -> str:
    for pattern in (_DOTTED, _DIRECTIVE):
        match = pattern.search(description)
        if match:
            return match.group(0)
    match = _LEADING.match(description)
    return match.group(0) if match else ""


def _rule_id(change_type: Any) -> str:
    # FIELD_REMOVED -> graphql-field-removed
    return "graphql-" + change_type.name.lower().replace("_", "-")


def _schema(doc: str | GraphQLSchema) -> GraphQLSchema:
    return doc if isinstance(doc, GraphQLSchema) else build_schema(doc)


def diff_graphql(old: str | GraphQLSchema, new: str | GraphQLSchema) -> list[dict[str, Any]]:
    """Changes from ``old`` to ``new``: breaking ones are ERR, dangerous ones WARN."""
    a, b = _schema(old), _schema(new)
    changes: list[dict[str, Any]] = []
    for level, found in (
        ("ERR", find_breaking_changes(a, b)),
        ("WARN", find_dangerous_changes(a, b)),
    ):
        for change in found:
            changes.append(
                {
                    "id": _rule_id(change.type),
                    "level": level,
                    "message": change.description,
                    "operation": "",
                    "path": _subject(change.description),
                    "location": "schema",
                }
            )
    return changes
