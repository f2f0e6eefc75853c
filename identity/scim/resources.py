"""What every SCIM resource shares: versions (weak ETags), conditional requests, the
attribute selection of ``attributes``/``excludedAttributes``, paging and the in-memory
matching of value filters (``members[value eq "12"]``)."""

from __future__ import annotations

import unicodedata
from datetime import datetime

from django.http import HttpRequest

from identity.scim.errors import ScimError, invalid_filter, invalid_value

LIST_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
DEFAULT_COUNT = 100
MAX_COUNT = 200
# Returned whatever ``attributes`` asks for (RFC 7643 §7, "returned: always").
ALWAYS = frozenset({"id", "schemas", "meta"})


def version(moment: datetime) -> str:
    return f'W/"{int(moment.timestamp() * 1_000_000)}"'


def timestamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _tags(header: str) -> list[str]:
    return [tag.strip().removeprefix("W/") for tag in header.split(",") if tag.strip()]


def check_if_match(request: HttpRequest, current: str) -> None:
    """412 when ``If-Match`` names versions and none is the current one (weak comparison)."""
    header = request.headers.get("If-Match")
    if not header:
        return
    tags = _tags(header)
    if "*" in tags or current.removeprefix("W/") in tags:
        return
    raise ScimError(412, "The resource changed since that version was read; read it again.")


def not_modified(request: HttpRequest, current: str) -> bool:
    header = request.headers.get("If-None-Match")
    if not header:
        return False
    tags = _tags(header)
    return "*" in tags or current.removeprefix("W/") in tags


def _names(request: HttpRequest, parameter: str) -> frozenset[str]:
    raw = request.GET.get(parameter, "")
    # "name.givenName" selects the whole of "name": sub-attribute selection is not kept.
    return frozenset(
        part.strip().lower().rsplit(":", 1)[-1].split(".")[0]
        for part in raw.split(",")
        if part.strip()
    )


class Selection:
    """Which top-level attributes a response carries."""

    def __init__(self, request: HttpRequest) -> None:
        self.only = _names(request, "attributes")
        self.excluded = _names(request, "excludedAttributes") - ALWAYS

    def wants(self, attribute: str) -> bool:
        name = attribute.lower()
        if name in ALWAYS:
            return True
        if self.only:
            return name in self.only
        return name not in self.excluded

    def apply(self, resource: dict) -> dict:
        return {key: value for key, value in resource.items() if self.wants(key)}


def _integer(request: HttpRequest, parameter: str, default: int) -> int:
    raw = request.GET.get(parameter)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_value(f"{parameter} must be an integer, not {raw[:40]!r}.") from None


def paging(request: HttpRequest) -> tuple[int, int]:
    """(startIndex, count): 1-based; below 1 reads as 1, a negative count as 0 and a count
    over ``MAX_COUNT`` as ``MAX_COUNT`` (RFC 7644 §3.4.2.4)."""
    start = max(1, _integer(request, "startIndex", 1))
    count = min(MAX_COUNT, max(0, _integer(request, "count", DEFAULT_COUNT)))
    return start, count


def list_response(resources: list[dict], *, total: int, start: int) -> dict:
    return {
        "schemas": [LIST_SCHEMA],
        "totalResults": total,
        "itemsPerPage": len(resources),
        "startIndex": start,
        "Resources": resources,
    }


def value_matches(tree, item: dict) -> bool:
    """Whether a value filter's tree (``identity.scim.filters.parse``) selects ``item``, one
    element of a multi-valued attribute as {sub-attribute: value}; eq/ne, and/or/not."""
    head = tree[0]
    if head == "and":
        return value_matches(tree[1], item) and value_matches(tree[2], item)
    if head == "or":
        return value_matches(tree[1], item) or value_matches(tree[2], item)
    if head == "not":
        return not value_matches(tree[1], item)
    if head == "compare" and tree[2] in ("eq", "ne") and tree[1] in item:
        actual, expected = item[tree[1]], tree[3]
        if isinstance(actual, str) and isinstance(expected, str):
            equal = actual.lower() == expected.lower()
        else:
            equal = actual == expected
        return equal if tree[2] == "eq" else not equal
    raise invalid_filter(f"Value filters here compare {', '.join(sorted(item))} with eq or ne.")


def text(value: object, attribute: str, *, limit: int, required: bool = False) -> str:
    """A one-line string attribute, stripped, or a 400 invalidValue saying why not."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise invalid_value(f"{attribute} must be a string.")
    value = value.strip()
    if required and not value:
        raise invalid_value(f"{attribute} is required.")
    if len(value) > limit:
        raise invalid_value(f"{attribute} must be at most {limit} characters.")
    if any(unicodedata.category(char) in {"Cc", "Zl", "Zp"} for char in value):
        raise invalid_value(f"{attribute} cannot contain control characters.")
    return value
