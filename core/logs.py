"""One JSON object per log line in production, so log pipelines need no parsing rules.

Every record carries the request id, the signed-in user and the app the request is about
(its slug), set per request by ``core.middleware.RequestContextMiddleware`` in context
variables, and the Celery task name inside workers; ``RequestIdLogFilter`` copies them onto
the record, and ``JsonFormatter`` writes whichever are present.
"""

from __future__ import annotations

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

_user: ContextVar[str] = ContextVar("appkeeper_log_user", default="")
_app: ContextVar[str] = ContextVar("appkeeper_log_app", default="")


def current_user() -> str:
    return _user.get()


def current_app_slug() -> str:
    return _app.get()


def set_log_user(value: str):
    return _user.set(value)


def set_log_app(value: str):
    return _app.set(value)


def reset_log_context(user_token, app_token) -> None:
    if app_token is not None:
        _app.reset(app_token)
    if user_token is not None:
        _user.reset(user_token)


class JsonFormatter(logging.Formatter):
    _EXTRA = (
        "request_id", "user", "app", "task", "method", "path", "view", "status", "duration_ms",
        "remote_addr",
    )  # fmt: skip

    def format(self, record: logging.LogRecord) -> str:
        payload = {
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
