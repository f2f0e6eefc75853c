"""Where in an OpenAPI document ``$ref`` is a reference, and where it is only data.

Only a Reference Object (or a schema's ``$ref``) points somewhere. The same key inside an
example's ``value``, a schema's ``example``/``examples``/``const``/``enum``/``default`` or
an extension (``x-...``) is the payload an API sends or describes: GitHub's SCIM examples
carry SCIM's own ``"$ref": "https://api.github.com/scim/v2/..."`` attribute. Those are
neither refused nor ever followed.

The walk gives every node one of three roles: an *object* of the specification (its keys
are keywords), a *name map* (its keys are names an author chose: ``properties``,
``paths``, ``responses``..., so a property called ``default`` is still a schema), or
*data*. Unknown keys of an object stay objects, so an unusual place errs on the side of
treating a ``$ref`` as a reference (refused when external), never the other way round.
"""

from __future__ import annotations

from enum import Enum
from typing import Any

__all__ = ["Role", "child_role"]


class Role(Enum):
    OBJECT = "object"
    NAMES = "names"
    DATA = "data"


# Keywords whose value is data in every version: OpenAPI's example values, JSON Schema's
# value keywords, a server variable's default and enum, an Example Object's value.
DATA_KEYWORDS = frozenset({"example", "const", "enum", "default", "value"})

# Keywords whose value maps author-chosen names to objects of the specification.
NAME_MAPS = frozenset(
    {
        "properties",
        "patternProperties",
        "definitions",
        "$defs",
        "dependentSchemas",
        "paths",
        "webhooks",
        "responses",
        "callbacks",
        "content",
        "headers",
        "encoding",
        "links",
        "schemas",
        "parameters",
        "requestBodies",
        "securitySchemes",
        "securityDefinitions",
        "pathItems",
        "variables",
        "mapping",
        "scopes",
    }
)


def child_role(role: Role, key: Any, value: Any, swagger2: bool) -> Role:
    """The role of ``value``, found under ``key`` in a node playing ``role``."""
    if role is Role.DATA:
        return Role.DATA
    if role is Role.NAMES or not isinstance(key, str):
        return Role.OBJECT
    if key in DATA_KEYWORDS or key.startswith("x-"):
        return Role.DATA
    if key == "examples":
        # A list is JSON Schema's examples, and Swagger 2.0's map is media type -> value:
        # both data. OpenAPI 3's map is name -> Example Object or Reference Object.
        if isinstance(value, list) or swagger2:
            return Role.DATA
        return Role.NAMES
    if key in NAME_MAPS and isinstance(value, dict):
        return Role.NAMES
    return Role.OBJECT
