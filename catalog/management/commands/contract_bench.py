"""Time and memory of validating and diffing the two Stripe documents."""

from __future__ import annotations

import gc
import resource
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from contracts import load_document, validate_contract
from contracts.openapi_diff import diff_documents

OLD, NEW = "stripe-2020-01-07.json", "stripe-2021-06-07.json"


def _measure(fn: Callable[[], Any]) -> tuple[Any, float, float, float]:
    """Run ``fn`` twice: once for wall and CPU time, once under tracemalloc for peak memory.

    tracemalloc slows allocation-heavy code several-fold, so timing it would mislead. CPU
    time is printed too because wall time on a busy shared machine says little.
    """
    gc.collect()
    cpu = time.process_time()
    start = time.perf_counter()
    result = fn()
    elapsed = time.perf_counter() - start
    cpu = time.process_time() - cpu
    del result
    gc.collect()
    tracemalloc.start()
    result = fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return result, elapsed, cpu, peak / (1024 * 1024)


class Command(BaseCommand):
    help = "Benchmark contract validation and diff on Stripe's public OpenAPI documents."

    def add_arguments(self, parser: CommandParser) -> None:
        default = Path(settings.BASE_DIR) / "tests" / "data" / "openapi-real"
        parser.add_argument("--folder", type=Path, default=default)

    def handle(self, *args: Any, **options: Any) -> None:
        folder: Path = options["folder"]
        if not (folder / OLD).is_file() or not (folder / NEW).is_file():
            raise CommandError(f"Stripe documents not found in {folder}")
        raw = {name: (folder / name).read_bytes() for name in (OLD, NEW)}
        rows: list[tuple[str, float, float, float, str]] = []
        docs = {}
        for name, data in raw.items():
            docs[name], secs, cpu, peak = _measure(lambda data=data: load_document(data, "openapi"))
            rows.append((f"load {name}", secs, cpu, peak, f"{len(data) / 1e6:.1f} MB"))
        for name, data in raw.items():
            result, secs, cpu, peak = _measure(lambda data=data: validate_contract(data, "openapi"))
            rows.append((f"validate {name}", secs, cpu, peak, f"{len(result.errors)} errors"))
        changes, secs, cpu, peak = _measure(
            lambda: diff_documents(docs[OLD].data or {}, docs[NEW].data or {})
        )
        breaking = sum(c["level"] == "ERR" for c in changes)
        rows.append(("diff old -> new", secs, cpu, peak, f"{len(changes)} changes, {breaking} ERR"))

        self.stdout.write(f"{'step':<36} {'wall s':>7} {'cpu s':>7} {'peak MB':>8}  notes")
        self.stdout.write("-" * 90)
        for step, secs, cpu, peak, note in rows:
            self.stdout.write(f"{step:<36} {secs:>7.2f} {cpu:>7.2f} {peak:>8.1f}  {note}")
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(f"process max RSS: {rss:.0f} MB")
