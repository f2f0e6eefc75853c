"""A bounded, thread-safe memo of validation results.

Keyed by what determines the result and nothing else: the normalised document's sha256,
its spec version and the versions of the libraries that judge it. Upgrading the
validator therefore starts afresh instead of serving another version's verdict.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from functools import cache
from importlib.metadata import PackageNotFoundError, version

__all__ = ["MAX_CACHED_RESULTS", "ValidationCache", "validator_versions"]

# Each entry is at most a few hundred short error dicts; the documents are not kept.
MAX_CACHED_RESULTS = 128

Key = tuple[str, str, str]
Errors = list[dict[str, str]]


@cache
def validator_versions() -> str:
    found = []
    # jsonschema-rs: openapi-spec-validator checks the whole document with it when present.
    for package in ("openapi-spec-validator", "jsonschema", "jsonschema-rs", "graphql-core"):
        try:
            found.append(f"{package}=={version(package)}")
        except PackageNotFoundError:
            found.append(f"{package}==?")
    return ",".join(found)


class ValidationCache:
    """Least recently used results first out, past ``size`` entries."""

    def __init__(self, size: int = MAX_CACHED_RESULTS) -> None:
        self.size = size
        self._entries: OrderedDict[Key, Errors] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Key) -> Errors | None:
        with self._lock:
            errors = self._entries.get(key)
            if errors is not None:
                self._entries.move_to_end(key)
            return errors

    def put(self, key: Key, errors: Errors) -> None:
        # A copy: callers own (and may change) the lists they are handed.
        stored = [dict(e) for e in errors]
        with self._lock:
            self._entries[key] = stored
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)
