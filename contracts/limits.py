"""Size limits every loader applies, in one place so the YAML and JSON paths agree."""

from __future__ import annotations

__all__ = ["MAX_BYTES", "MAX_DEPTH"]

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 200
