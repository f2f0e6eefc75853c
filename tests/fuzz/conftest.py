"""Hypothesis profiles for the fuzz tests, chosen with HYPOTHESIS_PROFILE.

``ci`` (the default under CI=true) is derandomized, so a failure in CI reproduces on any
machine with the same code, and small enough for the whole module to stay near a minute on
two shared cores; ``dev`` (the default elsewhere) draws fresh examples each run and prints
the seed of a failure; ``deep`` is for a long hunt (``HYPOTHESIS_PROFILE=deep``).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_common = {
    "deadline": None,
    # The fleet fixture is built once per endpoint and every example is rolled back.
    "suppress_health_check": [HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
}
settings.register_profile("ci", max_examples=36, derandomize=True, database=None, **_common)
settings.register_profile("dev", max_examples=40, print_blob=True, **_common)
settings.register_profile("deep", max_examples=2_000, print_blob=True, **_common)


def fuzz_profile() -> str:
    default = "ci" if os.environ.get("CI", "").lower() == "true" else "dev"
    return os.environ.get("HYPOTHESIS_PROFILE", default)
