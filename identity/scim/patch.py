"""PatchOp requests (RFC 7644 §3.5.2) read into plain operations, whichever dialect sends
them: Okta's path-less ``replace`` with a value object, Entra's capitalised ``Replace``
and string booleans (``"False"``), value-path filters like ``emails[type eq "work"].value``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from identity.scim import filters
from identity.scim.errors import invalid_path, invalid_syntax, invalid_value, no_target

PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
OPERATIONS = ("add", "replace", "remove")
MAX_OPERATIONS = 1000
_PATH = re.compile(
    r"^(?P<attr>(?:urn:[^\[\]]+:)?[A-Za-z$][\w$-]*)"
    r"(?:\[(?P<filter>[^\]]+)\])?"
    r"(?:\.(?P<sub>[A-Za-z$][\w$-]*))?$"
)


@dataclass(frozen=True)
class Path:
    """``attr[filter].sub``: the attribute (lower-case, without the core schema URN), the
    value filter as a parsed tree (or None), and the sub-attribute (lower-case, or "")."""

    attr: str
    filter: tuple | None = None
    sub: str = ""


@dataclass(frozen=True)
class Operation:
    op: str
    path: Path | None
    value: object


def parse_path(text: object) -> Path:
    if not isinstance(text, str) or not text.strip():
        raise invalid_path("An operation's path must be a non-empty string.")
    text = text.strip()
    match = _PATH.match(text)
    if match is None:
        raise invalid_path(f"Cannot read the path {text!r}.")
    attr = filters.normalise_path(match["attr"])
    sub = (match["sub"] or "").lower()
    tree = filters.parse(match["filter"]) if match["filter"] else None
    return Path(attr=attr, filter=tree, sub=sub)


def operations(body: dict) -> list[Operation]:
    schemas = body.get("schemas")
    if not isinstance(schemas, list) or PATCH_SCHEMA not in schemas:
        raise invalid_syntax(f"A PATCH body lists the schema {PATCH_SCHEMA}.")
    raw = body.get("Operations", body.get("operations"))
    if not isinstance(raw, list) or not raw:
        raise invalid_syntax("A PATCH body carries a non-empty list of Operations.")
    if len(raw) > MAX_OPERATIONS:
        raise invalid_syntax(f"A PATCH body carries at most {MAX_OPERATIONS} operations.")
    parsed = []
    for index, item in enumerate(raw):
        if not isinstance(item, dict):
            raise invalid_syntax(f"Operation {index + 1} is not an object.")
        op = str(item.get("op", "")).lower()
        if op not in OPERATIONS:
            raise invalid_syntax(
                f"Operation {index + 1}: op must be add, replace or remove, not {item.get('op')!r}."
            )
        path = parse_path(item["path"]) if item.get("path") not in (None, "") else None
        if path is None and op == "remove":
            raise no_target(f"Operation {index + 1}: remove needs a path.")
        if op != "remove" and "value" not in item:
            raise invalid_value(f"Operation {index + 1} ({op}) needs a value.")
        parsed.append(Operation(op=op, path=path, value=item.get("value")))
    return parsed


def boolean(value: object, attribute: str) -> bool:
    """A SCIM boolean, or Entra's string spelling of one ("True", "false")."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return value.strip().lower() == "true"
    raise invalid_value(f"{attribute} must be true or false.")


def flatten_value_object(value: object) -> dict[str, object]:
    """A path-less add/replace value (``{"active": false, "name.givenName": "A"}``) as
    lower-case dotted attribute paths, schema URN prefixes removed."""
    if not isinstance(value, dict):
        raise invalid_value("Without a path, the value must be an object of attributes.")
    flat: dict[str, object] = {}
    for key, item in value.items():
        name = filters.normalise_path(str(key))
        if name.startswith("urn:"):
            continue  # an extension schema's attributes: nothing here stores them
        if isinstance(item, dict) and name in ("name",):
            for sub, sub_value in item.items():
                flat[f"{name}.{str(sub).lower()}"] = sub_value
        else:
            flat[name] = item
    return flat
