"""Every write endpoint, found in the code rather than listed by hand.

API operations come from the OpenAPI schema drf-spectacular generates now (every POST, PUT,
PATCH and DELETE under /api/v1/, with the property names and types of its request body);
HTML form targets from the URL resolver, classified by the permission matrix's ``PAGES``
table (which fails when a new POST route is left out of it), and their field names from
the forms the pages actually render. Path parameters are filled from the seeded fleet, so
a request reaches the view's body handling instead of stopping at a 404.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache
from html.parser import HTMLParser

from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator

from tests.test_permission_matrix import PAGES, page_routes

WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Target:
    """One write endpoint: how to call it and what its body looks like."""

    name: str  # operationId, or the URL name of a page
    method: str
    route: str  # an OpenAPI path ("/api/v1/apps/{slug}/") or a Django route
    kind: str  # "api", "page" or "telemetry"
    content_types: tuple[str, ...] = ()
    fields: dict[str, dict] = field(default_factory=dict, hash=False, compare=False)

    @property
    def parameters(self) -> list[str]:
        return [a or b for a, b in re.findall(r"\{(\w+)\}|<(?:\w+:)?(\w+)>", self.route)]


@cache
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _properties(body_schema: dict) -> dict[str, dict]:
    ref = body_schema.get("$ref", "")
    if ref:
        body_schema = schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    properties = {}
    for name, prop in (body_schema.get("properties") or {}).items():
        ref = prop.get("$ref") or next(
            (option["$ref"] for option in prop.get("allOf", []) if "$ref" in option), ""
        )
        properties[name] = (
            schema()["components"]["schemas"][ref.rsplit("/", 1)[-1]] if ref else prop
        )
    return properties


@cache
def api_targets() -> tuple[Target, ...]:
    found = []
    for path, methods in schema()["paths"].items():
        for method, operation in methods.items():
            if method.upper() not in WRITE_METHODS or not path.startswith("/api/v1/"):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            fields: dict[str, dict] = {}
            for media in content.values():
                fields |= _properties(media.get("schema", {}))
            kind = "telemetry" if operation["operationId"] == "telemetry_ingest" else "api"
            found.append(
                Target(
                    name=operation["operationId"],
                    method=method.upper(),
                    route=path,
                    kind=kind,
                    content_types=tuple(content),
                    fields=fields,
                )
            )
    return tuple(sorted(found, key=lambda t: t.name))


@cache
def page_targets() -> tuple[Target, ...]:
    routes = page_routes()
    return tuple(
        Target(name=name, method="POST", route="/" + routes[name], kind="page")
        for name in sorted(PAGES)
    )


def all_targets() -> tuple[Target, ...]:
    return api_targets() + page_targets()


# --- form fields, read from the rendered pages -------------------------------------------------


class _FormParser(HTMLParser):
    """Collects, for each ``<form method="post">``, its action and its field names."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, set[str]]] = []
        self._current: tuple[str, set[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and (values.get("method") or "").lower() == "post":
            self._current = (values.get("action") or "", set())
            self.forms.append(self._current)
        elif tag in ("input", "select", "textarea", "button") and self._current is not None:
            name = values.get("name")
            if name and name != "csrfmiddlewaretoken":
                self._current[1].add(name)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._current = None


def form_fields(pages: dict[str, bytes]) -> dict[str, set[str]]:
    """URL name -> names of the fields its forms post, from rendered pages (path -> HTML)."""
    fields: dict[str, set[str]] = {}
    for path, html in pages.items():
        parser = _FormParser()
        parser.feed(html.decode("utf-8", "replace"))
        for action, names in parser.forms:
            try:
                match = resolve((action or path).split("?")[0])
            except Resolver404:
                continue
            fields.setdefault(match.view_name, set()).update(names)
    return fields
