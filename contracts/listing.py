"""The operations a contract offers, named as a dependent declares the ones it calls:
``GET /tickets/{id}`` for OpenAPI (and Swagger 2.0), ``Query.tickets`` for GraphQL."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLError, build_schema

from .openapi_diff.model import HTTP_METHODS, Resolver

# A list to choose from, not an inventory: past this, a person types what they call.
MAX_OPERATIONS = 500


def openapi_operations(document: dict[str, Any]) -> list[str]:
    """``METHOD /path`` of every operation under ``paths``, in document order."""
    resolver = Resolver(document)
    paths = document.get("paths") if isinstance(document, dict) else None
    labels: list[str] = []
    for path, item in (paths or {}).items():
        item = resolver.deref(item)
        if not isinstance(path, str) or not isinstance(item, dict):
            continue
        for method in HTTP_METHODS:
            if isinstance(item.get(method), dict):
                labels.append(f"{method.upper()} {path}")
                if len(labels) >= MAX_OPERATIONS:
                    return labels
    return labels


def graphql_operations(sdl: str) -> list[str]:
    """``Query.field``, ``Mutation.field`` and ``Subscription.field`` of a schema; [] when
    the SDL does not build (a stored contract may be an invalid one)."""
    try:
        schema = build_schema(sdl or "")
    except (GraphQLError, TypeError):
        return []
    labels: list[str] = []
    for root in (schema.query_type, schema.mutation_type, schema.subscription_type):
        if root is None:
            continue
        for name in root.fields:
            labels.append(f"{root.name}.{name}")
            if len(labels) >= MAX_OPERATIONS:
                return labels
    return labels
