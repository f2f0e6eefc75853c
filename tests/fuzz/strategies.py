"""Hostile request bodies for the write-endpoint fuzz test, as hypothesis strategies.

Everything here builds bytes or Python values; nothing talks to Django, so the strategies
can be reused by other fuzzers. The payloads lean towards what has broken parsers and
databases before: NUL and control characters, lone surrogates, integers past every column's
range and past Python's 4,300-digit parsing limit, deep nesting, YAML tags that construct
objects, alias bombs (kept small so a passing run stays fast), impossible dates.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

# --- scalars -------------------------------------------------------------------------------

NASTY_TEXT = [
    "",
    " ",
    "\x00",
    "a\x00b",
    "line\nbreak",
    "tab\there",
    "\r\n",
    "\u202eevil",
    "\ud800",  # a lone surrogate: valid in JSON escapes, not encodable as UTF-8
    "\udfff tail",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "1.0/evil x?#",
    "' OR 1=1 --",
    "%00",
    "ｂob",
    "é" * 300,
    "x" * 5001,
    "2024-13-45",
    "2024-02-30T25:61:00Z",
    "-1",
    "9" * 30,  # an id past 64 bits
    "1e309",
    "NaN",
    "true",
    "null",
    "eu-central",
    "support-tools",
    "field-ops",
    "ticket-router",
]
HUGE_INTS = [
    2**31,
    -(2**31) - 1,
    2**63,
    -(2**63) - 1,
    10**30,
    -(10**30),
]

texts = st.one_of(
    st.sampled_from(NASTY_TEXT),
    st.text(max_size=40),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=12),
    st.text(alphabet=st.characters(categories=["Cc", "Cf", "Zl", "Zp"]), max_size=6),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.sampled_from(HUGE_INTS),
    st.floats(allow_nan=False, allow_infinity=False),
    texts,
)


def json_values(max_leaves: int = 12) -> st.SearchStrategy[Any]:
    """Arbitrary JSON-able values: scalars nested in lists and objects with nasty keys."""
    return st.recursive(
        scalars,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(texts, children, max_size=4),
        ),
        max_leaves=max_leaves,
    )


# --- whole JSON documents --------------------------------------------------------------------


def deep_json(depth: int, kind: str) -> bytes:
    """A document nested ``depth`` levels: arrays, objects, or an object inside a field."""
    if kind == "array":
        return b"[" * depth + b"]" * depth
    if kind == "object":
        return b'{"a":' * depth + b"1" + b"}" * depth
    return b'{"name":' + b"[" * depth + b"]" * depth + b"}"


special_json_bytes = st.one_of(
    st.builds(
        deep_json,
        st.sampled_from([63, 65, 200, 5_000, 100_000]),
        st.sampled_from(["array", "object", "field"]),
    ),
    st.sampled_from(
        [
            b'{"name": ' + b"9" * 5_000 + b"}",  # past Python's int-from-string digit limit
            b'{"name": 1e99999}',
            b'{"name": NaN, "slug": Infinity}',
            b'{"name": "\\ud800"}',
            b'{"slug": "\\u0000"}',
            b'{"a": 1, "a": 2}',
            b"\xef\xbb\xbf{}",  # a byte-order mark
            b'{"name": "\xff\xfe"}',  # not UTF-8
            b"",
            b"null",
            b"[]",
            b"0",
            b'"just a string"',
            b"{",
        ]
    ),
)


def json_bytes(value: Any) -> bytes:
    # ensure_ascii keeps lone surrogates as \\udxxx escapes, as a real client would send them.
    return json.dumps(value, ensure_ascii=True).encode()


def objects_for(fields: dict[str, dict]) -> st.SearchStrategy[dict]:
    """Objects shaped like a serializer's request schema: its real field names, each with a
    value of the right type, of a wrong type, or a nasty one, plus an unknown field."""

    def value_for(schema: dict) -> st.SearchStrategy[Any]:
        options: list[st.SearchStrategy[Any]] = [json_values(6)]
        if schema.get("enum"):
            options.append(st.sampled_from(schema["enum"]))
        kind = schema.get("type")
        if kind == "array":
            options.append(st.lists(scalars, max_size=5))
            options.append(st.lists(st.sampled_from(NASTY_TEXT), max_size=5))
        elif kind == "integer":
            options.append(st.integers())
        elif kind == "boolean":
            options.append(st.booleans())
        elif kind == "object":
            options.append(st.dictionaries(texts, scalars, max_size=4))
        return st.one_of(options)

    if not fields:
        return st.dictionaries(texts, json_values(6), max_size=4)
    return st.fixed_dictionaries(
        {}, optional={name: value_for(schema) for name, schema in fields.items()}
    ).flatmap(
        lambda obj: st.dictionaries(texts, scalars, max_size=2).map(lambda extra: extra | obj)
    )


# --- YAML -----------------------------------------------------------------------------------

YAML_DOCUMENTS = [
    "!!python/object/apply:os.system ['echo owned']",
    "!!python/object/new:type ['x', [], {}]",
    "spec: !!python/name:os.system",
    # An alias bomb, five levels of three: 243 leaves, enough to show aliases are expanded
    # with care, small enough to stay fast when they are.
    "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: &c [*b, *b, *b]\nd: &d [*c, *c, *c]\n"
    "e: [*d, *d, *d]\n",
    "openapi: 3.1.0\ninfo: {title: T, version: 2024-13-45}\npaths: {}\n",
    "openapi: 3.1.0\ninfo: {title: T, version: 2024-02-30T25:61:00Z}\npaths: {}\n",
    'openapi: 3.1.0\ninfo: {title: "\\0", version: "\\0"}\npaths: {}\n',
    "openapi: 3.1.0\ninfo: {title: T, version: " + "9" * 5_000 + "}\npaths: {}\n",
    "openapi: 3.1.0\ninfo: {title: T, version: '1.0/../x y?#'}\npaths: {}\n",
    "openapi: 3.1.0\ninfo: {title: '<script>alert(1)</script>', version: '1'}\npaths: {}\n",
    "openapi: 3.1.0\ninfo: {title: T, version: 1}\npaths: {'/x': {get: {responses: {'200': "
    "{description: ok}}}}}\n",
    "--- 1\n--- [2]\n--- {a: b}\n",
    "? [a, b]\n: c\n",
    "key: value\n\tbad: tab\n",
    "%YAML 1.1\n---\nx: !!binary aGVsbG8=\n",
    "x: !!timestamp 2024-13-45\n",
    "x: !!int " + "1" * 5_000 + "\n",
    "[" * 500 + "]" * 500,
    "{a: " * 200 + "1" + "}" * 200,
]
BACKSTAGE_DOCUMENTS = [
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: fuzz-app}\n"
    "spec: {type: service, lifecycle: experimental, owner: support-tools}\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: [not, a, mapping]\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x}\nspec: 7\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: x, annotations: [a]}\n"
    "spec: {owner: support-tools, lifecycle: production, dependsOn: component:ticket-router}\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: '\\0'}\n"
    "spec: {owner: support-tools, lifecycle: experimental, tags: {a: b}}\n",
    "apiVersion: backstage.io/v1alpha1\nkind: API\nmetadata: {name: x-api}\n"
    "spec: {type: openapi, definition: {$text: 'http://169.254.169.254/'}}\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata:\n  name: draft-dep\n"
    "spec: {owner: support-tools, lifecycle: experimental, dependsOn: [component:lead-scorer]}\n",
    "apiVersion: backstage.io/v1alpha1\nkind: Component\nmetadata: {name: "
    + "a" * 300
    + "}\nspec: {owner: support-tools, lifecycle: experimental}\n",
]


def yaml_texts() -> st.SearchStrategy[str]:
    """YAML documents: the fixed hostile ones, combined, or with arbitrary text spliced in."""
    fixed = st.sampled_from(YAML_DOCUMENTS + BACKSTAGE_DOCUMENTS)
    return st.one_of(
        fixed,
        st.lists(fixed, min_size=2, max_size=3).map("\n---\n".join),
        st.tuples(fixed, texts).map(lambda pair: pair[0].replace("x", pair[1], 1)),
        st.text(max_size=200),
    )


# --- whole bodies with a content type --------------------------------------------------------

CONTENT_TYPES = [
    "application/json",
    "application/json; charset=latin-1",
    "application/yaml",
    "application/x-yaml",
    "text/yaml",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=BoUnDaRy",
    "multipart/form-data",  # no boundary
    "application/octet-stream",
    "x/garbage",
    ";;;",
    "",
]


def multipart(fields: dict[str, bytes], boundary: str = "BoUnDaRy") -> bytes:
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{name}.yaml"\r\nContent-Type: application/octet-stream\r\n\r\n'.encode()
            + value
            + b"\r\n"
        )
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


raw_bodies = st.tuples(
    st.sampled_from(CONTENT_TYPES),
    st.one_of(
        st.binary(max_size=512),
        special_json_bytes,
        yaml_texts().map(lambda text: text.encode("utf-8", "surrogatepass")),
        st.dictionaries(st.sampled_from(["file", "spec", "yaml", "x"]), st.binary(max_size=64)).map(
            multipart
        ),
    ),
)
