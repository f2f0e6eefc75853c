"""Contract versions as numbers, and the version ranges a dependent pins a provider to.

Contract labels are free-form (``1.4.0``, ``v2``, ``2024-01``, ``1.2.0-r2``), so they are
read leniently: the leading numbers become ``(major, minor, patch)`` and whatever cannot
be read is "unknown", never an error. Ranges are what a dependent writes, so they are read
strictly, with a message saying what was expected. The grammar is npm's, restricted to
what a contract needs:

===================  ==========================================
``1``, ``1.x``       any 1.y.z (``>=1.0.0 <2.0.0``)
``1.2``, ``1.2.x``   any 1.2.z
``1.2.3``            exactly 1.2.3
``^1.2``             ``>=1.2.0 <2.0.0`` (``^0.3``: ``>=0.3.0 <0.4.0``)
``~1.2``             ``>=1.2.0 <1.3.0`` (``~1``: ``>=1.0.0 <2.0.0``)
``>=1.0,<2``         comparators (``>``, ``>=``, ``<``, ``<=``, ``=``), all must hold;
                     separated by commas or spaces
``^1 || ^2``         either
``*``, ``x``         any version
===================  ==========================================

A leading ``v`` is allowed everywhere (``v2``, ``^v1``); calendar labels are numbers too
(``2024-01`` is 2024.1.0, so ``2024`` pins a year's releases).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from django.core.exceptions import ValidationError

Version = tuple[int, int, int]

MAX_RANGE_LENGTH = 50

RANGE_HELP = (
    'Write a version range such as "1" or "1.x" (any 1.y.z), "^1.2" (1.2 up to 2), '
    '"~1.2" (1.2.z), ">=1.0,<2", an exact "1.4.0", or "^1 || ^2"; leave it empty to '
    "follow the current version."
)

# A label's leading numbers: "v1.4.0", "1.4", "2", "1.2.0-r2", "2.0.0-beta.1".
_LABEL = re.compile(r"^[vV]?(\d{1,9})(?:\.(\d{1,9}))?(?:\.(\d{1,9}))?(?:[-+._].*)?$")
# Calendar labels: "2024-01", "2024-01-15", "2024.01".
_CALENDAR = re.compile(r"^[vV]?(\d{4})[-.](\d{1,2})(?:[-.](\d{1,2}))?$")
# A version as a range writes it: parts may be wildcards ("1.x", "1.2.*").
_PARTIAL = re.compile(r"^[vV]?(\d{1,9}|[xX*])(?:\.(\d{1,9}|[xX*]))?(?:\.(\d{1,9}|[xX*]))?$")
_COMPARATOR = re.compile(r"^(\^|~|>=|<=|>|<|=)?\s*(.+)$")


def parse_label(label: str | None) -> Version | None:
    """``(major, minor, patch)`` of a contract version label, None when it has no number
    to read (``"beta"``, ``""``). Missing parts are 0; suffixes are ignored."""
    if not label:
        return None
    text = label.strip()
    calendar = _CALENDAR.match(text)
    if calendar:
        year, month, day = calendar.groups()
        return int(year), int(month), int(day or 0)
    match = _LABEL.match(text)
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor or 0), int(patch or 0)


def major_of(label: str | None) -> int | None:
    version = parse_label(label)
    return version[0] if version else None


def format_version(version: Version) -> str:
    return ".".join(str(part) for part in version)


@dataclass(frozen=True)
class Interval:
    """Versions from ``low`` (inclusive when ``low_inclusive``) below ``high`` (exclusive
    unless ``high_inclusive``); None is unbounded."""

    low: Version | None = None
    low_inclusive: bool = True
    high: Version | None = None
    high_inclusive: bool = False

    def contains(self, version: Version) -> bool:
        if self.low is not None and (
            version < self.low or (version == self.low and not self.low_inclusive)
        ):
            return False
        return self.high is None or (
            version < self.high or (version == self.high and self.high_inclusive)
        )

    @property
    def empty(self) -> bool:
        if self.low is None or self.high is None:
            return False
        if self.low == self.high:
            return not (self.low_inclusive and self.high_inclusive)
        return self.low > self.high

    def below(self, version: Version) -> bool:
        """Whether some version it allows is older than ``version``."""
        if self.low is None:
            return True
        return self.low < version

    def intersect(self, other: Interval) -> Interval:
        low, low_inclusive = self.low, self.low_inclusive
        if other.low is not None and (
            low is None or other.low > low or (other.low == low and not other.low_inclusive)
        ):
            low, low_inclusive = other.low, other.low_inclusive
        high, high_inclusive = self.high, self.high_inclusive
        if other.high is not None and (
            high is None or other.high < high or (other.high == high and not other.high_inclusive)
        ):
            high, high_inclusive = other.high, other.high_inclusive
        return Interval(low, low_inclusive, high, high_inclusive)


class PinStatus(StrEnum):
    FOLLOWS = "follows"  # no range: the dependent follows whatever is current
    WITHIN = "within"  # the current version is in the range
    BEHIND = "behind"  # the range stops below the current version: left on an old one
    AHEAD = "ahead"  # the range starts above the current version (not released yet)
    UNKNOWN = "unknown"  # no contract, or a label with no number to compare


def _partial(text: str) -> list[int | None]:
    """The parts of a version as a range writes it, None for a wildcard or a missing part;
    ValueError when it is no version."""
    calendar = _CALENDAR.match(text)
    if calendar:
        year, month, day = calendar.groups()
        return [int(year), int(month), int(day) if day else None]
    match = _PARTIAL.match(text)
    if not match:
        raise ValueError(text)
    parts: list[int | None] = []
    for part in match.groups():
        if part is None or part in "xX*":
            parts.append(None)
        else:
            parts.append(int(part))
    # "1.x.3" means nothing: after the first wildcard every part is one.
    if None in parts:
        first = parts.index(None)
        if any(p is not None for p in parts[first:]):
            raise ValueError(text)
    return parts


def _bump(parts: list[int], index: int) -> Version:
    """The first version past ``parts[:index + 1]``: ``[1, 2], 0`` -> 2.0.0."""
    head = parts[: index + 1]
    head[-1] += 1
    return (*head, *([0] * (3 - len(head))))  # type: ignore[return-value]


def _filled(parts: list[int]) -> Version:
    return (*parts, *([0] * (3 - len(parts))))  # type: ignore[return-value]


def _comparator(token: str) -> Interval:
    match = _COMPARATOR.match(token)
    if not match:
        raise ValueError(token)
    operator, operand = match.group(1) or "", match.group(2).strip()
    raw = _partial(operand)
    known = [p for p in raw if p is not None]
    if not known:
        if operator in ("", "="):
            return Interval()
        raise ValueError(token)
    filled = _filled(known)
    if operator == "^":
        # The leftmost non-zero part may not change: ^1.2 -> <2, ^0.3 -> <0.4, ^0.0.3 -> <0.0.4.
        index = next((i for i, p in enumerate(known) if p != 0), len(known) - 1)
        return Interval(low=filled, high=_bump(known, index))
    if operator == "~":
        index = 0 if len(known) == 1 else 1
        return Interval(low=filled, high=_bump(known, index))
    if operator in ("", "="):
        if len(known) == 3:
            return Interval(low=filled, high=filled, high_inclusive=True)
        return Interval(low=filled, high=_bump(known, len(known) - 1))
    if operator == ">=":
        return Interval(low=filled)
    if operator == ">":
        # ">1" is past every 1.y.z, ">1.2.3" past 1.2.3 only.
        if len(known) == 3:
            return Interval(low=filled, low_inclusive=False)
        return Interval(low=_bump(known, len(known) - 1))
    if operator == "<":
        return Interval(high=filled)
    # "<=1" takes in every 1.y.z.
    if len(known) == 3:
        return Interval(high=filled, high_inclusive=True)
    return Interval(high=_bump(known, len(known) - 1))


def _tokens(alternative: str) -> list[str]:
    """Comparators of one alternative: split at commas and spaces, an operator kept with
    its operand when a space separates them (">= 1.0")."""
    words = [w for w in re.split(r"[,\s]+", alternative) if w]
    tokens: list[str] = []
    for word in words:
        if tokens and tokens[-1] in ("^", "~", ">=", "<=", ">", "<", "="):
            tokens[-1] += word
        else:
            tokens.append(word)
    return tokens


def parse_range(text: str) -> list[Interval]:
    """The intervals a range allows (any of them); [] for an empty range (no pin).
    ValueError when it is not a range."""
    text = text.strip()
    if not text:
        return []
    intervals = []
    for alternative in text.split("||"):
        tokens = _tokens(alternative)
        if not tokens:
            raise ValueError(text)
        interval = Interval()
        for token in tokens:
            interval = interval.intersect(_comparator(token))
        intervals.append(interval)
    return intervals


def clean_range(value: str | None) -> str:
    """A dependent's version range, checked and with its spacing tidied; raises
    ValidationError saying what a range looks like."""
    text = " ".join((value or "").split())
    if len(text) > MAX_RANGE_LENGTH:
        raise ValidationError(f"Keep the range under {MAX_RANGE_LENGTH} characters.")
    try:
        intervals = parse_range(text)
    except ValueError:
        raise ValidationError(f"“{text}” is not a version range. {RANGE_HELP}") from None
    if intervals and all(interval.empty for interval in intervals):
        raise ValidationError(f"“{text}” allows no version at all.")
    return text


def range_allows(version_range: str, label: str | None) -> bool | None:
    """Whether ``label`` is in ``version_range`` (an empty range allows every version);
    None when the label has no number to compare or the range cannot be read."""
    try:
        intervals = parse_range(version_range or "")
    except ValueError:
        return None
    if not intervals:
        return True
    version = parse_label(label)
    if version is None:
        return None
    return any(interval.contains(version) for interval in intervals)


def pin_status(version_range: str, label: str | None) -> PinStatus:
    """Where a dependent pinned to ``version_range`` stands against the provider's current
    contract version ``label`` (None: the provider has no contract)."""
    try:
        intervals = parse_range(version_range or "")
    except ValueError:
        return PinStatus.UNKNOWN
    if not intervals:
        return PinStatus.FOLLOWS
    version = parse_label(label)
    if version is None:
        return PinStatus.UNKNOWN
    if any(interval.contains(version) for interval in intervals):
        return PinStatus.WITHIN
    if any(interval.below(version) for interval in intervals):
        return PinStatus.BEHIND
    return PinStatus.AHEAD
