"""The policy rule lifecycle adds to the catalog's: an app declares what it calls.

Registered from ``LifecycleConfig.ready()``: the catalog's policy engine cannot import
lifecycle, so the observed calls reach the rule as a registered fact source
(``catalog.policies.FactSource``), loaded for a whole page of apps in two queries.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from catalog.models import MicroApp
from catalog.policies import (
    AppFacts,
    FactSource,
    Finding,
    Rule,
    Severity,
    finding,
    register_fact_source,
    register_rule,
)
from lifecycle.observed import compare_calls, window_days

SOURCE = "observed_calls"
RULE_ID = "declares-what-it-calls"
# Past this many ids the query reads every caller's rows instead of an IN list that would
# approach the databases' parameter limits; only the asked apps are answered.
MAX_LISTED_IDS = 500


def load_observed_calls(app_ids: list[int]) -> Mapping[int, dict[str, Any]]:
    """Per app that reported calls: whom it called in the window (slug → requests), what it
    declares, and whether silence judges its declared dependencies (it covers a window)."""
    wanted = set(app_ids)
    apps: Any = app_ids if len(app_ids) <= MAX_LISTED_IDS else MicroApp.objects.values("pk")
    out = {}
    for pk, comparison in compare_calls(apps=apps).items():
        if pk not in wanted:
            continue
        declared = {edge.slug for edge in comparison.observed if edge.declared}
        declared.update(unused.slug for unused in comparison.unused)
        out[pk] = {
            "called": {edge.slug: edge.requests for edge in comparison.observed},
            "declared": tuple(sorted(declared)),
            "judges_unused": comparison.covers_window,
        }
    return out


def _declares_what_it_calls(app: AppFacts) -> Iterator[Finding]:
    calls = app.extra.get(SOURCE)
    if not calls:
        return
    days = window_days()
    declared = set(calls["declared"] if app.depends_on is None else app.depends_on)
    for slug, requests in sorted(calls["called"].items()):
        if slug not in declared:
            yield finding(
                "depends_on",
                f"Calls {slug} ({requests} requests in {days} days) but does not declare it.",
            )
    if calls["judges_unused"]:
        for slug in sorted(declared - calls["called"].keys()):
            yield finding("depends_on", f"Declares {slug} but has not called it in {days} days.")


def register() -> None:
    register_fact_source(FactSource(SOURCE, load_observed_calls))
    register_rule(
        Rule(
            RULE_ID,
            "Apps declare the apps their telemetry shows them calling, and call what they declare.",
            Severity.WARN,
            _declares_what_it_calls,
        )
    )
