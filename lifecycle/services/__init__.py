"""Lifecycle writes: renewals, secrets, reminders, expiry, sunset cases, telemetry.

Each public function is one transaction (or a short sequence of them, for the jobs) and
leaves an audit trail. The daily jobs work on the whole fleet in a fixed number of
queries, whatever its size: rows are read in one query, claimed under a row lock
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL; SQLite serialises write transactions) or by a
unique constraint, and written in bulk. That is also what lets a job run twice, or on two
workers at once, and still do its work once.

One module per topic; this package re-exports their public functions so that callers
write ``services.app_renew(...)`` whichever module holds it. The reads they share with
views and panels (the renewal window, why a renewal is refused, the low-usage candidates)
are in ``lifecycle.selectors``.
"""

from core.webhooks import SECRET_PREFIX, new_secret
from lifecycle.services.common import (
    JUSTIFICATION_MIN_CHARS,
    PREVIOUS_SECRET_VALIDITY,
    RenewalNotAllowed,
    SunsetCaseError,
)
from lifecycle.services.expiry import ExpiryResult, apps_expire
from lifecycle.services.observed import observed_call_declare
from lifecycle.services.reminders import reminder_due, reminders_send, token_reminders_send
from lifecycle.services.renewals import app_renew
from lifecycle.services.secrets import app_issue_secret, app_rotate_secret
from lifecycle.services.sunset import (
    sunset_cases_close,
    sunset_cases_open,
    sunset_decide,
    sunset_respond,
)
from lifecycle.services.telemetry import (
    Credentials,
    DeliveryConflict,
    StoredAnswer,
    telemetry_credentials,
    telemetry_previous_answer,
    telemetry_prune,
    telemetry_store,
)

__all__ = [
    "JUSTIFICATION_MIN_CHARS",
    "PREVIOUS_SECRET_VALIDITY",
    "SECRET_PREFIX",
    "Credentials",
    "DeliveryConflict",
    "ExpiryResult",
    "RenewalNotAllowed",
    "StoredAnswer",
    "SunsetCaseError",
    "app_issue_secret",
    "app_renew",
    "app_rotate_secret",
    "apps_expire",
    "observed_call_declare",
    "new_secret",
    "reminder_due",
    "reminders_send",
    "token_reminders_send",
    "sunset_cases_close",
    "sunset_cases_open",
    "sunset_decide",
    "sunset_respond",
    "telemetry_credentials",
    "telemetry_previous_answer",
    "telemetry_prune",
    "telemetry_store",
]
