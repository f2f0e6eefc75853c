"""Turn model-level errors into API answers with field-level messages."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from catalog.breaking_services import ScheduleRefused
from catalog.contract_services import BreakingNeedsNotice
from catalog.models import TransitionError
from contracts import ContractError, DocumentTooLarge


def transition_code(exc: TransitionError) -> str:
    """The refusal's own code (``renewal_not_allowed``, ``gate_failed``, ...), so a client
    can tell them apart; ``invalid_transition`` for one raised without a code."""
    return getattr(exc, "code", None) or "invalid_transition"


def exception_handler(exc, context):
    if isinstance(exc, ContractError):
        # Every error with its path, so the author can fix them all in one go.
        return Response(
            {
                "detail": str(exc) or "The contract was refused.",
                "code": exc.code,
                "errors": exc.errors,
            },
            status=(
                status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
                if isinstance(exc, DocumentTooLarge)
                else status.HTTP_400_BAD_REQUEST
            ),
        )
    if isinstance(exc, BreakingNeedsNotice):
        # The field's message, and who would break, so the owner can plan the window.
        return Response(
            {
                **exc.message_dict,
                "detail": " ".join(exc.messages),
                "code": exc.code,
                "impact": exc.impact.as_dict(),
            },
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, ScheduleRefused):
        # Well-formed, but the date breaks the window the dependents were promised.
        return Response(
            {**exc.message_dict, "detail": " ".join(exc.messages), "code": exc.code},
            status=status.HTTP_422_UNPROCESSABLE_ENTITY,
        )
    if isinstance(exc, TransitionError):
        body = {"detail": " ".join(exc.messages), "code": transition_code(exc)}
        # What the caller needs to try again, e.g. the dependents a retirement must confirm.
        body.update(getattr(exc, "payload", None) or {})
        return Response(body, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)
