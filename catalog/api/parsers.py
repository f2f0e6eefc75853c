"""JSON parsing that cannot be driven into a 500 by deeply nested input."""

from __future__ import annotations

import json
import re

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import BaseParser, JSONParser

# JSON escapes can spell half of a UTF-16 pair ("\ud800"), which no UTF-8 text can hold:
# the database could not store it, and an error message quoting it could not be encoded.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def json_depth(value) -> int:
    """Depth of nested containers, measured without recursion; refuses NUL and lone
    surrogates in any string (PostgreSQL text and jsonb cannot store them)."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node.values())
            stack.extend((key, depth) for key in node)
        elif isinstance(node, str):
            if "\x00" in node:
                # PostgreSQL text and jsonb cannot store NUL; refuse it here, not as a 500.
                raise ParseError("JSON strings must not contain NUL (\\u0000) characters.")
            if _LONE_SURROGATE.search(node):
                raise ParseError(
                    "JSON strings must be valid Unicode: a \\ud800-\\udfff escape must be "
                    "one half of a surrogate pair."
                )
        elif isinstance(node, list):
            deepest = max(deepest, depth)
            stack.extend((child, depth + 1) for child in node)
    return deepest


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser plus a nesting limit (APPKEEPER_MAX_JSON_DEPTH, 64 by default)."""

    max_depth: int | None = None

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read() if stream is not None else b""
        try:
            data = json.loads(raw.decode("utf-8"), parse_constant=_refuse_constant)
        except RecursionError:
            raise ParseError("JSON is nested too deeply.") from None
        except UnicodeDecodeError:
            raise ParseError("JSON must be UTF-8.") from None
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        limit = self.max_depth or settings.APPKEEPER_MAX_JSON_DEPTH
        if json_depth(data) > limit:
            raise ParseError(f"JSON is nested more than {limit} levels deep.")
        return data


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not valid JSON")


class PlainTextParser(BaseParser):
    """Raw YAML or text bodies (``catalog-info.yaml`` uploads), handed over as bytes."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        return stream.read() if stream is not None else b""
