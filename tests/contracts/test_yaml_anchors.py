"""YAML anchors and aliases: real reuse loads, exponential reuse is refused unexpanded."""

from __future__ import annotations

import pytest
import yaml

from contracts import DocumentMalformed, TooDeep, load_document, load_yaml, scan_yaml
from contracts.yaml_loading import EXPANSION_FLOOR, EXPANSION_RATIO

from .test_documents import BILLION_LAUGHS


def _laughs(levels: int, width: int) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    for n in range(1, levels):
        lines.append(f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def _wide_reuse(block_nodes: int, uses: int) -> str:
    """One big anchored block aliased many times: linear, not exponential, growth."""
    block = "block: &b [" + ", ".join(str(i) for i in range(block_nodes)) + "]\n"
    return block + "uses: [" + ", ".join(["*b"] * uses) + "]\n"


BOMBS = {
    "billion-laughs": BILLION_LAUGHS,
    "two-wide-forty-deep": _laughs(40, 2),
    "thousand-wide-three-deep": _laughs(3, 1000),
    "wide-reuse": _wide_reuse(2_000, 200),
    "merge-keys": "a0: &a0 {k: [v, v, v, v, v, v, v, v]}\n"
    + "".join(
        f"a{n}: &a{n} {{<<: *a{n - 1}, b: *a{n - 1}, c: *a{n - 1}, d: *a{n - 1}}}\n"
        for n in range(1, 14)
    ),
    "spread-over-documents": "".join(f"---\nkind: A\nx: &x{n} [1, 2]\n" for n in range(5))
    + "---\n"
    + _laughs(12, 3),
}


@pytest.fixture(params=[True, False], ids=["libyaml", "pure-python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    if not request.param:
        monkeypatch.delattr(yaml, "CSafeLoader", raising=False)


@pytest.mark.parametrize("name", BOMBS)
@pytest.mark.usefixtures("parser")
def test_expansion_bombs_are_refused_by_every_entry_point(name: str) -> None:
    bomb = BOMBS[name]
    for load in (
        lambda: load_yaml(bomb, multi=True),
        lambda: scan_yaml(bomb),
        lambda: load_document("openapi: 3.0.0\n" + bomb.replace("---\n", ""), "openapi"),
    ):
        with pytest.raises(DocumentMalformed, match="anchors and aliases expand to more than"):
            load()


@pytest.mark.usefixtures("parser")
def test_reuse_within_the_bound_loads_as_the_expanded_tree() -> None:
    # Ten uses of a 100-node block in a short file: over 10x its own nodes, under the floor.
    text = _wide_reuse(100, 10)
    assert load_yaml(text)["uses"] == [list(range(100))] * 10
    # Twenty times the same 2,000-node block is twenty times the document: refused.
    with pytest.raises(DocumentMalformed, match=f"{EXPANSION_RATIO} times"):
        load_yaml(_wide_reuse(2_000, 20))
    assert EXPANSION_FLOOR >= 1_000


@pytest.mark.usefixtures("parser")
def test_recursive_and_dangling_aliases_are_refused_where_they_are() -> None:
    with pytest.raises(DocumentMalformed, match=r"line 1, column 14.*\*a is recursive"):
        load_yaml("a: &a [1, 2, *a]\n")
    with pytest.raises(DocumentMalformed, match=r"\*nowhere refers to no anchor"):
        load_yaml("a: *nowhere\n")
    # Anchors belong to their document: the second one cannot use the first one's.
    with pytest.raises(DocumentMalformed, match="refers to no anchor"):
        load_yaml("a: &x [1]\n---\nb: *x\n", multi=True)


@pytest.mark.usefixtures("parser")
def test_an_alias_cannot_nest_the_tree_past_the_depth_limit() -> None:
    deep = "a: &deep " + "[" * 150 + "]" * 150 + "\n"
    with pytest.raises(TooDeep, match=r"alias \*deep nests"):
        load_yaml(deep + "b: " + "[" * 60 + "*deep" + "]" * 60 + "\n")
    load_yaml(deep + "b: [[*deep]]\n")


def test_backstage_files_follow_the_same_rules() -> None:
    entity = (
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata: {name: a, tags: &tags [payments, pci]}\n"
        "spec: {type: service, owner: team-a, lifecycle: production}\n"
    )
    other = entity.replace("name: a, tags: &tags [payments, pci]", "name: b, tags: *tags")
    stream = entity + "---\n" + entity.replace("name: a", "name: c")
    assert scan_yaml(stream, root_keys=("kind",)) == 2
    assert [d["metadata"]["tags"] for d in load_yaml(stream, multi=True)] == [
        ["payments", "pci"],
        ["payments", "pci"],
    ]
    # Each document of a stream has its own anchors.
    with pytest.raises(DocumentMalformed, match=r"\*tags refers to no anchor"):
        scan_yaml(entity + "---\n" + other, root_keys=("kind",))
    with pytest.raises(DocumentMalformed, match="anchors and aliases expand"):
        scan_yaml(entity + "---\n" + BILLION_LAUGHS, root_keys=("kind",))
