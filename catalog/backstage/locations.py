"""Reading a source as Backstage would: the root file, the Location entities it names
(breadth first), and the files API definitions point to with ``$text``/``$json``/``$yaml``.

Every fetch goes through :mod:`catalog.backstage.fetch` (allowed hosts, no private
addresses, size caps), and at most ``APPKEEPER_BACKSTAGE_FETCH_MAX_FILES`` files are read
per run. A catalog file that cannot be read fails the whole run: importing the others
would make that file's entities look removed from the source. What cannot be followed over
HTTP (a glob, a ``file`` location) and a definition that cannot be read are reported and
the run goes on: they never carried entities of their own.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

from django.conf import settings

from catalog.backstage.fetch import Fetched, FetchError, fetch
from catalog.backstage.placeholders import placeholder
from contracts import ContractError, load_yaml


class CollectError(Exception):
    """The source cannot be read whole; the message names every file that failed."""


@dataclass
class Collected:
    docs: list[dict] = field(default_factory=list)
    # ``ImportJob.resolved``: doc index (as text) -> {"location", "definition" | "error"}.
    resolved: dict[str, dict[str, str]] = field(default_factory=dict)
    # Each document's file, by index: where its relative references point from.
    locations: list[str] = field(default_factory=list)
    files: int = 0
    # What was skipped without failing the run (globs, other location types, definitions).
    warnings: list[str] = field(default_factory=list)
    # True when the root file holds Location entities: its ETag says nothing about the
    # files it names, so it is not used to skip the next run.
    has_locations: bool = False
    etag: str = ""
    last_modified: str = ""


class Reader:
    """Fetches for one run: the file budget, the source's token and host, a cache."""

    def __init__(self, *, token: str = "", token_host: str = "") -> None:
        self.token, self.token_host = token, token_host
        self.files = 0
        self.cache: dict[str, str] = {}

    def get(self, url: str, **conditional: str) -> Fetched:
        if url in self.cache:
            return Fetched(url, 200, self.cache[url])
        if self.files >= settings.APPKEEPER_BACKSTAGE_FETCH_MAX_FILES:
            raise FetchError(
                f"{url} not read: a run reads at most "
                f"{settings.APPKEEPER_BACKSTAGE_FETCH_MAX_FILES} files "
                "(APPKEEPER_BACKSTAGE_FETCH_MAX_FILES)."
            )
        self.files += 1
        got = fetch(url, token=self.token, token_host=self.token_host, **conditional)
        if got.status == 200:
            self.cache[url] = got.text
        return got


def parse(text: str, url: str) -> list[dict]:
    try:
        loaded = load_yaml(text, multi=True)
    except ContractError as exc:
        raise FetchError(f"{url} is not readable YAML: {exc}") from None
    docs = []
    for number, doc in enumerate(loaded, start=1):
        if doc is None:
            continue
        if not isinstance(doc, dict) or not isinstance(doc.get("kind"), str):
            raise FetchError(f"{url}: document {number} is not a Backstage entity.")
        docs.append(doc)
    return docs


def targets(doc: dict, file_url: str) -> tuple[list[str], list[str]]:
    """The URLs a Location entity names, and what it names that cannot be followed."""
    spec = doc.get("spec") if isinstance(doc.get("spec"), dict) else {}
    assert isinstance(spec, dict)
    kind = str(spec.get("type") or "url")
    named: list[Any] = []
    if isinstance(spec.get("target"), str):
        named.append(spec["target"])
    if isinstance(spec.get("targets"), list):
        named.extend(spec["targets"])
    urls, problems = [], []
    name = (doc.get("metadata") or {}).get("name", "?")
    for target in named:
        if not isinstance(target, str) or not target.strip():
            problems.append(f"Location {name} in {file_url}: a target is not a URL.")
        elif kind != "url":
            problems.append(
                f"Location {name} in {file_url}: {target} is of type {kind}, which cannot "
                "be followed over HTTP; not read."
            )
        elif "*" in target:
            problems.append(
                f"Location {name} in {file_url}: {target} is a glob, which cannot be "
                "listed over HTTP; not read."
            )
        else:
            urls.append(urljoin(file_url, target.strip()))
    return urls, problems


def collect(
    url: str, *, token: str = "", etag: str = "", last_modified: str = ""
) -> Collected | None:
    """Read the source at ``url``; None when the root file is unchanged (304). Raises
    :class:`CollectError` when a catalog file cannot be read (the root or a target)."""
    reader = Reader(token=token, token_host=(urlsplit(url).hostname or "").lower())
    try:
        root = reader.get(url, etag=etag, last_modified=last_modified)
    except FetchError as exc:
        raise CollectError(str(exc)) from None
    if root.status == 304:
        return None
    out = Collected(etag=root.etag, last_modified=root.last_modified)
    queue: deque[tuple[str, str]] = deque([(url, root.text)])
    seen = {url}
    failures: list[str] = []
    while queue:
        file_url, text = queue.popleft()
        try:
            docs = parse(text, file_url)
        except FetchError as exc:
            failures.append(str(exc))
            continue
        for doc in docs:
            out.docs.append(doc)
            out.locations.append(file_url)
            if str(doc.get("kind")).lower() != "location":
                continue
            out.has_locations = out.has_locations or file_url == url
            found, problems = targets(doc, file_url)
            out.warnings.extend(problems)
            for target in found:
                if target in seen:
                    continue
                seen.add(target)
                try:
                    queue.append((target, reader.get(target).text))
                except FetchError as exc:
                    failures.append(str(exc))
    if failures:
        raise CollectError(" ".join(failures))
    out.resolved = resolve_definitions(out.docs, out.locations, reader)
    out.files = reader.files
    return out


def resolve_definitions(
    docs: list[dict], locations: list[str], reader: Reader
) -> dict[str, dict[str, str]]:
    """Each entity's file (``location``, what its relative references and TechDocs
    ``dir:`` resolve against) and the ``$text``/``$json``/``$yaml`` definitions of API
    entities, relative to that file; a definition that cannot be read is an error of that
    entity alone."""
    resolved: dict[str, dict[str, str]] = {
        str(index): {"location": location} for index, location in enumerate(locations)
    }
    for index, doc in enumerate(docs):
        if str(doc.get("kind", "")).lower() != "api":
            continue
        spec = doc.get("spec")
        found = placeholder(spec.get("definition")) if isinstance(spec, dict) else None
        if found is None:
            continue
        key, target = found
        base = locations[index] if index < len(locations) else ""
        url = urljoin(base, target) if base else target
        try:
            definition = read_definition(key, url, reader)
            resolved[str(index)] = {"location": base, "definition": definition}
        except FetchError as exc:
            resolved[str(index)] = {"location": base, "error": str(exc)}
    return resolved


def read_definition(key: str, url: str, reader: Reader) -> str:
    text = reader.get(url).text
    if key == "$json":
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False)
        except ValueError as exc:
            raise FetchError(f"{url} is not JSON ($json): {exc}") from None
    if key == "$yaml":
        try:
            load_yaml(text)
        except ContractError as exc:
            raise FetchError(f"{url} is not YAML ($yaml): {exc}") from None
    return text
