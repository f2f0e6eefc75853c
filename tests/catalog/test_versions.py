"""Contract version labels read leniently, version ranges read strictly."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from catalog.versions import PinStatus, clean_range, major_of, parse_label, pin_status, range_allows


@pytest.mark.parametrize(
    ("label", "version"),
    [
        ("1.4.0", (1, 4, 0)),
        ("v2", (2, 0, 0)),
        ("V3.1", (3, 1, 0)),
        ("1.2.0-r2", (1, 2, 0)),  # the suffix the registry adds to a repeated info.version
        ("2.0.0-beta.1", (2, 0, 0)),
        ("1.0.0+build.7", (1, 0, 0)),
        ("2024-01", (2024, 1, 0)),
        ("2024-01-15", (2024, 1, 15)),
        ("2024.03", (2024, 3, 0)),
        ("beta", None),
        ("", None),
        (None, None),
        ("release-2", None),
    ],
)
def test_labels_are_read_leniently(label, version):
    assert parse_label(label) == version
    assert major_of(label) == (version[0] if version else None)


@pytest.mark.parametrize(
    ("version_range", "allowed", "refused"),
    [
        ("1", ["1.0.0", "1.9.9", "v1"], ["2.0.0", "0.9"]),
        ("1.x", ["1.4.0"], ["2.0.0"]),
        ("1.2", ["1.2.0", "1.2.9"], ["1.3.0", "1.1.9"]),
        ("1.2.*", ["1.2.5"], ["1.3.0"]),
        ("1.4.0", ["1.4.0", "1.4"], ["1.4.1"]),
        ("=1.4.0", ["1.4.0"], ["1.4.1"]),
        ("^1.2", ["1.2.0", "1.9.0"], ["1.1.9", "2.0.0"]),
        ("^0.3", ["0.3.1"], ["0.4.0"]),
        ("^0.0.3", ["0.0.3"], ["0.0.4"]),
        ("~1.2", ["1.2.9"], ["1.3.0"]),
        ("~1.2.3", ["1.2.3", "1.2.9"], ["1.2.2", "1.3.0"]),
        ("~1", ["1.9.0"], ["2.0.0"]),
        (">=1.0,<2", ["1.0.0", "1.9.9"], ["0.9.9", "2.0.0"]),
        (">= 1.0 < 2", ["1.5.0"], ["2.0.0"]),
        (">1", ["2.0.0"], ["1.9.9"]),
        (">1.2.3", ["1.2.4"], ["1.2.3"]),
        ("<=1", ["1.9.9"], ["2.0.0"]),
        ("<=1.2.3", ["1.2.3"], ["1.2.4"]),
        ("^1 || ^3", ["1.1.0", "3.0.0"], ["2.0.0"]),
        ("*", ["0.0.1", "99.0.0"], []),
        ("^v1", ["1.2.0"], ["2.0.0"]),
        ("2024", ["2024-06"], ["2025-01"]),
        (">=2024-03", ["2024-03", "2025-01"], ["2024-02"]),
    ],
)
def test_ranges_follow_the_documented_grammar(version_range, allowed, refused):
    assert clean_range(version_range) == " ".join(version_range.split())
    for label in allowed:
        assert range_allows(version_range, label) is True, label
    for label in refused:
        assert range_allows(version_range, label) is False, label


def test_an_empty_range_allows_every_version_and_an_unreadable_label_is_unknown():
    assert clean_range("  ") == ""
    assert range_allows("", "2.0.0") is True
    assert range_allows("", "beta") is True
    assert range_allows("^1", "beta") is None
    assert range_allows("^1", None) is None


@pytest.mark.parametrize(
    ("version_range", "message"),
    [
        ("latest", "is not a version range"),
        ("1.x.3", "is not a version range"),
        ("^", "is not a version range"),
        ("^1 ||", "is not a version range"),
        (">=x", "is not a version range"),
        ("1.2.3.4", "is not a version range"),
        (">=2,<1", "allows no version"),
        (">1.2.3 <1.2.3", "allows no version"),
        ("1" * 60, "under 50 characters"),
    ],
)
def test_a_bad_range_says_what_a_range_looks_like(version_range, message):
    with pytest.raises(ValidationError) as raised:
        clean_range(version_range)
    assert message in raised.value.messages[0]


@pytest.mark.parametrize(
    ("version_range", "label", "status"),
    [
        ("", "2.0.0", PinStatus.FOLLOWS),
        ("^2", "2.1.0", PinStatus.WITHIN),
        ("^1", "2.0.0", PinStatus.BEHIND),
        ("~1.2", "1.3.0", PinStatus.BEHIND),
        ("^1 || ^3", "2.0.0", PinStatus.BEHIND),  # part of it stops below
        ("^3", "2.0.0", PinStatus.AHEAD),
        ("^1", "beta", PinStatus.UNKNOWN),
        ("^1", None, PinStatus.UNKNOWN),
    ],
)
def test_where_a_pin_stands_against_the_current_version(version_range, label, status):
    assert pin_status(version_range, label) == status
