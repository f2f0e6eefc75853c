"""A mutation test of the contract engine on real specs.

Each kind of edit (``catalogue.py``) is applied alone, at the first place in document
order that fits it, to a real spec (Discord 2026-07-18, Stripe 2021-06-07 and OpenAI
2026-08-21); the engine then diffs the original against the edited copy.
A breaking kind is *hit* when the engine reports oasdiff's rule id at oasdiff's level
(both from oasdiff's current ``checker/rules.go``); a compatible kind must report no ERR.

``python -m tests.contracts.mutations [--focus] [discord] [stripe] [openai]`` prints the table,
the misses and the peak memory; ``tests/contracts/test_mutations.py`` holds the floors.
"""

from .report import MutationReport, run, table

__all__ = ["MutationReport", "run", "table"]
