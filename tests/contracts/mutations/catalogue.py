"""The mutation catalogue: each edit and the oasdiff rule id it must produce.

The level of each rule is not written here: it is read from oasdiff's own rules file
(``tests/data/oasdiff-rules/rules.json``), so a kind is breaking exactly when
oasdiff's current ``checker/rules.go`` makes its rule ERR or WARN. A rule of ``None``
is a compatible edit oasdiff has no rule for (a description), which must report nothing
breaking. Edits go to the first place in document order that fits them.
"""

from __future__ import annotations

from .breaking import BREAKING
from .compatible import COMPATIBLE
from .edits import Mutation

__all__ = ["BREAKING", "COMPATIBLE", "Mutation"]
