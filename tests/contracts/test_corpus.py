"""The oasdiff-derived corpus: the engine must meet its targets on every level."""

from __future__ import annotations

import pytest

from contracts.corpus import run_corpus

from .helpers import OASDIFF


@pytest.fixture(scope="module")
def report():  # noqa: ANN201
    return run_corpus(OASDIFF)


def test_every_err_case_reports_its_expected_ids(report) -> None:  # noqa: ANN001
    missed = [(c.test, c.expected, sorted(c.reported)) for c in report.missed("ERR")]
    assert missed == []


def test_at_least_90_percent_of_warn_cases(report) -> None:  # noqa: ANN001
    figures = report.figures()["WARN"]
    assert figures["cases"] > 0
    assert figures["hit"] / figures["cases"] >= 0.9, report.missed("WARN")


def test_no_info_only_case_is_reported_as_err(report) -> None:  # noqa: ANN001
    wrong = [(c.test, c.reported) for c in report.cases if c.info_as_err]
    assert wrong == []


def test_no_case_crashes(report) -> None:  # noqa: ANN001
    assert [(c.test, c.error) for c in report.cases if c.error] == []
