"""Safe loading: limits, hostile YAML, forbidden refs, errors with positions, hashing."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
import time

import pytest
import yaml

from contracts import (
    DocumentMalformed,
    DocumentTooLarge,
    ForbiddenRef,
    TooDeep,
    load_document,
    scan_yaml,
    validate_contract,
)
from contracts.documents import MAX_BYTES

MINIMAL = {"openapi": "3.0.3", "info": {"title": "t", "version": "1"}, "paths": {}}

BILLION_LAUGHS = """
a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]
b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]
c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]
d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]
e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]
f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]
g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]
h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]
i: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]
"""


def _with_ref(ref: str) -> str:
    doc = {
        **MINIMAL,
        "paths": {
            "/pets": {
                "get": {
                    "responses": {
                        "200": {
                            "description": "ok",
                            "content": {"application/json": {"schema": {"$ref": ref}}},
                        }
                    }
                }
            }
        },
    }
    return json.dumps(doc)


def test_billion_laughs_is_refused_fast() -> None:
    start = time.perf_counter()
    with pytest.raises(DocumentMalformed) as exc:
        load_document("openapi: 3.0.0\n" + BILLION_LAUGHS, "openapi")
    assert time.perf_counter() - start < 1.0
    assert "anchors and aliases" in exc.value.errors[0]["message"]


def test_a_harmless_anchor_loads_as_plain_yaml() -> None:
    text = "openapi: 3.0.0\ninfo: &i {title: t, version: '1'}\nx-again: *i\npaths: {}\n"
    tree = load_document(text, "openapi").data or {}
    assert tree["x-again"] == tree["info"] == {"title": "t", "version": "1"}


@pytest.mark.parametrize(
    "ref",
    [
        "http://example.com/schema.yaml",
        "https://example.com/schema.json#/Pet",
        "file:///etc/passwd",
        "ftp://example.com/pet.yaml",
        "pet.yaml",
        "../common/pet.yaml#/Pet",
        "//example.com/pet.yaml",
    ],
)
def test_non_local_refs_are_refused_with_ref_and_path(ref: str) -> None:
    with pytest.raises(ForbiddenRef) as exc:
        load_document(_with_ref(ref), "openapi")
    (error,) = exc.value.errors
    assert ref in error["message"]
    assert error["path"] == ("$.paths./pets.get.responses.200.content.application/json.schema.$ref")


def test_local_refs_are_allowed() -> None:
    doc = load_document(_with_ref("#/components/schemas/Pet"), "openapi")
    assert doc.spec_version == "3.0.3"


def test_remote_ref_makes_no_connection() -> None:
    """A ref to a listening local server is refused before anything could connect to it."""
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(5)
    server.settimeout(0.5)
    port = server.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        try:
            conn, _ = server.accept()
            connections.append(conn)
        except OSError:
            pass

    thread = threading.Thread(target=accept)
    thread.start()
    try:
        with pytest.raises(ForbiddenRef) as exc:
            validate_contract(_with_ref(f"http://127.0.0.1:{port}/x.yaml"), "openapi")
        assert f"http://127.0.0.1:{port}/x.yaml" in exc.value.errors[0]["message"]
        thread.join()
    finally:
        server.close()
    assert connections == []


def test_document_over_10_mb_is_refused() -> None:
    padding = "x" * (MAX_BYTES + 1)
    data = json.dumps({**MINIMAL, "x-padding": padding}).encode()
    with pytest.raises(DocumentTooLarge):
        load_document(data, "openapi")
    with pytest.raises(DocumentTooLarge):
        load_document(data.decode(), "openapi")


def test_nesting_201_is_refused_200_is_fine() -> None:
    def nested(depth: int) -> str:
        # The top-level mapping is level 1; each extra level wraps a list.
        inner = "[" * (depth - 1) + "]" * (depth - 1)
        return '{"openapi": "3.0.3", "x": ' + inner + "}"

    load_document(nested(200), "openapi")
    with pytest.raises(TooDeep):
        load_document(nested(201), "openapi")


def test_yaml_nesting_is_checked_without_recursion_errors() -> None:
    deep = "openapi: 3.0.3\nx: " + "[" * 5000 + "]" * 5000 + "\n"
    with pytest.raises(TooDeep):
        load_document(deep, "openapi")


def test_json_nesting_far_too_deep_is_an_error_not_a_crash() -> None:
    with pytest.raises(TooDeep):
        load_document('{"x": ' + "[" * 100_000 + "]" * 100_000 + "}", "openapi")


def test_malformed_json_reports_line_and_column() -> None:
    with pytest.raises(DocumentMalformed) as exc:
        load_document('{\n  "openapi": "3.0.3",\n  "info": {,}\n}', "openapi")
    assert exc.value.errors[0]["path"] == "line 3, column 12"


def test_malformed_yaml_reports_line_and_column() -> None:
    with pytest.raises(DocumentMalformed) as exc:
        load_document("openapi: 3.0.3\ninfo:\n  title: [unclosed\n  version: 1\n", "openapi")
    assert exc.value.errors[0]["path"].startswith("line ")
    assert "column" in exc.value.errors[0]["path"]


def test_malformed_graphql_reports_line_and_column() -> None:
    with pytest.raises(DocumentMalformed) as exc:
        load_document("type Query {\n  a: String\n  b: \n}\n", "graphql")
    assert exc.value.errors[0]["path"] == "line 4, column 1"


def test_version_detection() -> None:
    assert (
        load_document('{"swagger": "2.0", "info": {}, "paths": {}}', "openapi").spec_version
        == "2.0"
    )
    assert load_document("openapi: 3.1.0\ninfo: {}\n", "openapi").spec_version == "3.1.0"
    with pytest.raises(DocumentMalformed):
        load_document("openapi: 4.0.0\n", "openapi")


def test_sha256_ignores_key_order_and_whitespace() -> None:
    a = load_document(json.dumps(MINIMAL), "openapi")
    b = load_document(json.dumps(dict(reversed(MINIMAL.items())), indent=4), "openapi")
    c = load_document("paths: {}\ninfo:\n  version: '1'\n  title: t\nopenapi: 3.0.3\n", "openapi")
    assert a.sha256 == b.sha256 == c.sha256
    changed = load_document(json.dumps({**MINIMAL, "paths": {"/x": {}}}), "openapi")
    assert changed.sha256 != a.sha256


def test_graphql_hash_ignores_whitespace() -> None:
    a = load_document("type Query { a: String }", "graphql")
    b = load_document("type   Query {\n\n  a:    String\n}\n", "graphql")
    assert a.sha256 == b.sha256
    assert a.normalised.startswith("type Query")


def test_yaml_dates_and_integer_keys_become_json() -> None:
    doc = load_document(
        "openapi: 3.0.3\ninfo: {title: t, version: 1}\nx-date: 2024-01-02\n"
        "paths:\n  /a:\n    get:\n      responses:\n        200: {description: ok}\n",
        "openapi",
    )
    assert doc.data is not None
    assert doc.data["x-date"] == "2024-01-02"
    assert "200" in doc.data["paths"]["/a"]["get"]["responses"]


def test_yaml_depth_limit_matches_json() -> None:
    def nested(depth: int) -> str:
        return "openapi: 3.0.3\nx: " + "[" * (depth - 1) + "]" * (depth - 1) + "\n"

    load_document(nested(200), "openapi")
    with pytest.raises(TooDeep):
        load_document(nested(201), "openapi")


def test_merge_key_bomb_is_refused() -> None:
    levels = ["a0: &a0 {" + ", ".join(f"k{i}: [v, v, v, v]" for i in range(10)) + "}"]
    for n in range(1, 12):
        merged = ", ".join(f"*a{n - 1}" for _ in range(4))
        levels.append(f"a{n}: &a{n} {{<<: [{merged}], x{n}: *a{n - 1}, y{n}: *a{n - 1}}}")
    with pytest.raises(DocumentMalformed, match="anchors and aliases expand"):
        load_document("openapi: 3.0.0\n" + "\n".join(levels) + "\n", "openapi")


def test_billion_laughs_refused_without_libyaml(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(yaml, "CSafeLoader", raising=False)  # PyYAML built without libyaml
    start = time.perf_counter()
    with pytest.raises(DocumentMalformed):
        load_document("openapi: 3.0.0\n" + BILLION_LAUGHS, "openapi")
    assert time.perf_counter() - start < 1.0
    assert load_document("openapi: 3.0.0\ninfo: {}\n", "openapi").spec_version == "3.0.0"


@pytest.mark.parametrize("libyaml", [True, False], ids=["libyaml", "pure-python"])
def test_load_yaml_is_the_one_safe_loader_on_both_parsers(
    libyaml: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contracts import load_yaml

    if not libyaml:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)
    assert load_yaml("a: [1, {b: 2024-01-02}]\n") == {"a": [1, {"b": dt.date(2024, 1, 2)}]}
    assert load_yaml("a: 1\n---\n---\nb: 2\n", multi=True) == [{"a": 1}, None, {"b": 2}]
    with pytest.raises(DocumentMalformed, match="anchors and aliases"):
        load_yaml("kind: A\n---\n" + BILLION_LAUGHS, multi=True)
    with pytest.raises(TooDeep):
        load_yaml("x: " + "[" * 300 + "]" * 300 + "\n", multi=True)
    load_yaml("x: " + "[" * 199 + "]" * 199 + "\n")  # 200 levels with the mapping
    with pytest.raises(DocumentMalformed, match="line 3, column 1: invalid YAML"):
        load_yaml("a: 1\nb: [unclosed\n")
    with pytest.raises(DocumentMalformed, match="exactly one"):
        load_yaml("a: 1\n---\nb: 2\n")
    with pytest.raises(DocumentMalformed, match="empty"):
        load_yaml("")
    with pytest.raises(DocumentMalformed):  # only the safe tags construct
        load_yaml("a: !!python/object/apply:os.system [ls]\n")


def test_shared_containers_become_separate_copies_in_the_tree() -> None:
    from contracts.documents import _normalise_tree

    shared: list[int] = [1]
    tree, _ = _normalise_tree({"a": shared, "b": shared})
    assert tree == {"a": [1], "b": [1]} and tree["a"] is not tree["b"]


def test_empty_and_multi_document_yaml_are_malformed() -> None:
    with pytest.raises(DocumentMalformed):
        load_document("", "openapi")
    with pytest.raises(DocumentMalformed):
        load_document("openapi: 3.0.0\n---\nopenapi: 3.0.0\n", "openapi")


@pytest.mark.parametrize("value", ["!!binary aGVsbG8=", "!!set {a, b}", ".nan", "-.inf"], ids=str)
def test_yaml_values_without_a_json_equivalent_are_refused(value: str) -> None:
    with pytest.raises(DocumentMalformed):
        load_document(f"openapi: 3.0.3\nx-value: {value}\n", "openapi")


@pytest.mark.parametrize(
    ("text", "count", "error"),
    [
        ("kind: A\nspec:\n  nested: [1, {kind: x}]\nname: b\n", 1, ""),
        ("kind: A\n---\n---\nkind: B\n", 2, ""),
        ("{}\n", 0, "document 1 has no kind"),
        ("name: a\nspec: {kind: inside}\n", 0, "document 1 has no kind"),
        ("- kind\n", 0, "document 1 is not a mapping"),
        ("kind: A\n---\nplain\n", 0, "document 2 is not a mapping"),
    ],
)
def test_the_scan_checks_each_root_for_its_keys_without_building_it(text, count, error):
    if error:
        with pytest.raises(DocumentMalformed, match=error):
            scan_yaml(text, root_keys=("kind",))
    else:
        assert scan_yaml(text, root_keys=("kind",)) == count
    assert scan_yaml(text) >= 1  # without root_keys any document passes
