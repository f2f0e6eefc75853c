"""One JSON object per log line in production, so log pipelines need no parsing rules.

Every record carries the request id, the signed-in user and the app the request is about
(its slug), set per request by ``core.middleware.RequestContextMiddleware`` in context
variables, and the Celery task name inside workers; ``RequestIdLogFilter`` copies them onto
the record, and ``JsonFormatter`` writes whichever are present.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar, Token
from datetime import UTC, datetime
from typing import Any

_user: ContextVar[str] = ContextVar("appkeeper_log_user", default="")
_app: ContextVar[str] = ContextVar("appkeeper_log_app", default="")


def current_user() -> str:
    return _user.get()


def current_app_slug() -> str:
    return _app.get()


def set_log_user(value: str) -> Token[str]:
    return _user.set(value)


def set_log_app(value: str) -> Token[str]:
    return _app.set(value)


def reset_log_context(user_token: Token[str] | None, app_token: Token[str] | None) -> None:
    if app_token is not None:
        _app.reset(app_token)
    if user_token is not None:
        _user.reset(user_token)


class JsonFormatter(logging.Formatter):
    # The log context (every record), then what an access line adds.
    _CONTEXT = ("request_id", "user", "app", "task")
    _ACCESS = ("method", "path", "view", "status", "duration_ms", "remote_addr")
    _EXTRA = (*_CONTEXT, *_ACCESS)

    def format(self, record: logging.LogRecord) -> str:
        payload: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key in self._EXTRA:
            value = getattr(record, key, None)
            if value not in (None, "", "-"):
                payload[key] = value
        if record.exc_info:
            payload["exc"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)
