"""Shared helpers for the contract-engine tests."""

from __future__ import annotations

from pathlib import Path

# Third-party documents kept in the repository: tests/data (sources and licences in its
# README.md). Every test that reads them runs on a fresh clone; a missing file fails.
CORPUS = Path(__file__).resolve().parents[1] / "data"
REAL = CORPUS / "openapi-real"
OASDIFF = CORPUS / "openapi-diff-oasdiff"
BACKSTAGE = CORPUS / "backstage"
OASDIFF_RULES = CORPUS / "oasdiff-rules" / "rules.json"
REAL_PAIRS = CORPUS / "real-pairs"
OPENAI = CORPUS / "openai"
GRAPHQL_GITHUB = CORPUS / "graphql-github"
