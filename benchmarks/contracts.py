"""The contract engine on real documents: load, validate (cold and cached) and diff, and
how fast YAML alias bombs are refused.

No database: ``python -m benchmarks contracts`` runs it alone, and
``manage.py contract_bench`` prints the same rows with peak memory. Documents come from
tests/data: the Stripe pair (2.7 and 3.6 MB JSON, OpenAPI 3.0), OpenAI's openapi.yaml
(2.8 MB YAML with anchors, OpenAPI 3.1, 23 validation errors), the same document grown
to 4 MB of JSON by repeating its component schemas under new names (validation work grows
with the schemas it checks), and GitHub's GraphQL schema (1.2 MB SDL).
"""

from __future__ import annotations

import copy
import gc
import json
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from contracts import diff_contracts, load_document, validate_contract
from contracts.validation import clear_validation_cache

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
STRIPE_OLD = DATA / "openapi-real" / "stripe-2020-01-07.json"
STRIPE_NEW = DATA / "openapi-real" / "stripe-2021-06-07.json"
OPENAI = DATA / "openai" / "openapi-2026-07-14.yaml"
GITHUB_SDL = DATA / "graphql-github" / "schema-2024-07-08.graphql"
GROWN_BYTES = 4_000_000
# The target the issue set for a 4 MB document, per step, in CPU seconds.
TARGET_CPU_SECONDS = 2.0


@dataclass
class ContractRow:
    step: str
    wall: float
    cpu: float
    peak_mb: float | None
    note: str


def measure(fn: Callable[[], Any], memory: bool) -> tuple[Any, float, float, float | None]:
    """Wall and CPU seconds of one call and, with ``memory``, the peak traced by a second
    call under tracemalloc (which slows allocation several-fold, so it is never timed).
    CPU time is the number to read on a shared machine; wall time says how busy it was."""
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn()
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    peak = None
    if memory:
        del result
        gc.collect()
        tracemalloc.start()
        result = fn()
        peak = tracemalloc.get_traced_memory()[1] / (1024 * 1024)
        tracemalloc.stop()
    return result, wall, cpu, peak


def grown_openai(openai_tree: dict[str, Any], size: int = GROWN_BYTES) -> str:
    """OpenAI's document with its component schemas repeated, renamed, until ``size``
    bytes of compact JSON: every copy is a schema the validator checks again."""
    tree = copy.deepcopy(openai_tree)
    schemas = tree["components"]["schemas"]
    originals = list(schemas.items())
    total = len(json.dumps(tree, separators=(",", ":")))
    round_number = 0
    while total < size:
        round_number += 1
        for name, schema in originals:
            if total >= size:
                break
            copy_name = f"{name}Copy{round_number}"
            schemas[copy_name] = copy.deepcopy(schema)
            total += len(json.dumps({copy_name: schema}, separators=(",", ":")))
    return json.dumps(tree, separators=(",", ":"))


def _validation_rows(name: str, document: Any, memory: bool) -> list[ContractRow]:
    def cold() -> Any:
        clear_validation_cache()
        return validate_contract(document)

    result, wall, cpu, peak = measure(cold, memory)
    rows = [ContractRow(f"validate {name}, cold", wall, cpu, peak, f"{len(result.errors)} errors")]
    result, wall, cpu, _ = measure(lambda: validate_contract(document), memory=False)
    rows.append(ContractRow(f"validate {name}, cached", wall, cpu, None, "same result"))
    return rows


def _laughs(levels: int, width: int) -> str:
    lines = ["l0: &l0 [" + ", ".join(["lol"] * width) + "]"]
    lines += [f"l{n}: &l{n} [" + ", ".join([f"*l{n - 1}"] * width) + "]" for n in range(1, levels)]
    return "openapi: 3.0.3\n" + "\n".join(lines) + "\n"


# Alias bombs: each must be refused, and how long that takes is the number that matters.
BOMBS = {
    "billion laughs (9 x 9)": _laughs(9, 9),
    "doubling, 40 deep": _laughs(40, 2),
    "one block, 2M aliases (8 MB)": "openapi: 3.0.3\nb: &b [1, 2, 3, 4, 5, 6, 7, 8, 9]\n"
    + "uses: ["
    + ", ".join(["*b"] * 2_000_000)
    + "]\n",
}


def _refusal_rows() -> list[ContractRow]:
    from contracts import DocumentMalformed

    def refuse(text: str) -> str:
        try:
            load_document(text, "openapi")
        except DocumentMalformed:
            return "refused"
        return "LOADED"

    rows = []
    for name, bomb in BOMBS.items():
        verdict, wall, cpu, _ = measure(lambda bomb=bomb: refuse(bomb), memory=False)
        rows.append(
            ContractRow(f"refuse {name}", wall, cpu, None, f"{len(bomb):,} bytes, {verdict}")
        )
    return rows


def contract_rows(memory: bool = False) -> list[ContractRow]:
    """Every step, in order; ``memory`` adds tracemalloc peaks (doubling the run time)."""
    rows: list[ContractRow] = _refusal_rows()
    documents: dict[str, Any] = {}
    sources = {
        "Stripe 2020-01-07": STRIPE_OLD.read_bytes(),
        "Stripe 2021-06-07": STRIPE_NEW.read_bytes(),
        "OpenAI yaml": OPENAI.read_bytes(),
    }
    for name, raw in sources.items():
        documents[name], wall, cpu, peak = measure(
            lambda raw=raw: load_document(raw, "openapi"), memory
        )
        rows.append(ContractRow(f"load {name}", wall, cpu, peak, f"{len(raw) / 1e6:.1f} MB"))
    grown = grown_openai(documents["OpenAI yaml"].data or {})
    documents["OpenAI grown"], wall, cpu, peak = measure(
        lambda: load_document(grown, "openapi"), memory
    )
    rows.append(ContractRow("load OpenAI grown", wall, cpu, peak, f"{len(grown) / 1e6:.1f} MB"))
    for name, document in documents.items():
        rows.extend(_validation_rows(name, document, memory))
    changes, wall, cpu, peak = measure(
        lambda: diff_contracts(documents["Stripe 2020-01-07"], documents["Stripe 2021-06-07"]),
        memory,
    )
    breaking = sum(c["level"] == "ERR" for c in changes)
    rows.append(
        ContractRow(
            "diff Stripe 2020 -> 2021",
            wall,
            cpu,
            peak,
            f"{len(changes):,} changes, {breaking:,} ERR",
        )
    )
    openai = documents["OpenAI yaml"]
    changes, wall, cpu, peak = measure(
        lambda: diff_contracts(openai, documents["OpenAI grown"]), memory
    )
    rows.append(
        ContractRow("diff OpenAI -> OpenAI grown", wall, cpu, peak, f"{len(changes)} changes")
    )
    sdl = GITHUB_SDL.read_bytes()
    github, wall, cpu, peak = measure(lambda: load_document(sdl, "graphql"), memory)
    rows.append(ContractRow("load GitHub GraphQL", wall, cpu, peak, f"{len(sdl) / 1e6:.1f} MB"))
    rows.extend(_validation_rows("GitHub GraphQL", github, memory))
    changes, wall, cpu, peak = measure(lambda: diff_contracts(github, github, "graphql"), memory)
    rows.append(
        ContractRow("diff GitHub GraphQL -> itself", wall, cpu, peak, f"{len(changes)} changes")
    )
    return rows


def bench_contracts() -> None:
    """The rows into the ``make bench`` table, CPU seconds against their targets: 2 s for
    validating and diffing OpenAPI documents, 1 s for refusing an alias bomb."""
    from benchmarks.harness import add

    for row in contract_rows():
        target = None
        if row.step.startswith("refuse"):
            target = 1.0
        elif row.step.startswith(("validate", "diff")) and "GraphQL" not in row.step:
            target = TARGET_CPU_SECONDS
        add(
            f"contracts: {row.step} ({row.note}; wall {row.wall:.2f} s)",
            f"{row.cpu:.3f} s CPU",
            None,
            target=f"< {target:.0f} s CPU" if target is not None else None,
            ok=row.cpu < target if target is not None else None,
        )
