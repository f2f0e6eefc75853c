"""Shared helpers for the contract-engine tests."""

from __future__ import annotations

from pathlib import Path

# The read-only corpus lives beside the project: <project root>/../shared/corpus.
CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
REAL = CORPUS / "openapi-real"
OASDIFF = CORPUS / "openapi-diff-oasdiff"
