"""Exceptions raised by the contract engine.

One base class carries a machine-readable ``code`` and a list of ``{"path", "message"}``
errors so the API layer can map each subclass to a status code without parsing text.
"""

from __future__ import annotations

__all__ = [
    "ContractError",
    "DocumentMalformed",
    "DocumentTooLarge",
    "ForbiddenRef",
    "TooDeep",
    "TooManyDocuments",
]


class ContractError(Exception):
    """Base error: ``code`` names the failure, ``errors`` lists what and where."""

    code = "contract_error"

    def __init__(self, errors: list[dict[str, str]] | str, code: str | None = None) -> None:
        if isinstance(errors, str):
            errors = [{"path": "$", "message": errors}]
        self.errors: list[dict[str, str]] = errors
        if code is not None:
            self.code = code
        super().__init__("; ".join(f"{e['path']}: {e['message']}" for e in errors[:5]))


class DocumentTooLarge(ContractError):
    """The document exceeds the size limit (the API answers 413)."""

    code = "document_too_large"


class DocumentMalformed(ContractError):
    """The bytes are not valid JSON, YAML or GraphQL SDL, or use forbidden YAML features."""

    code = "document_malformed"


class ForbiddenRef(ContractError):
    """A ``$ref`` points outside the document; following it would mean a network/file read."""

    code = "forbidden_ref"


class TooDeep(ContractError):
    """The document nests deeper than the limit."""

    code = "too_deep"


class TooManyDocuments(ContractError):
    """A multi-document stream holds more documents than the caller allows; parsing stopped
    at the first one over (``limit`` says how many were allowed)."""

    code = "too_many_documents"

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"the stream holds more than {limit} documents")
