"""Serving while Redis is down: the cache fails open, the broker is tried once.

On a request path Redis holds nothing a request cannot do without. The cache keeps counters
for limits (failed sign-ins, API throttles) and figures that can be computed again; the
broker only hurries work that beat schedules anyway (the outbox is drained every minute).
So a dead Redis must cost neither a 500 nor a long wait:

- ``cache_fails_open(operation)`` wraps a block of cache calls. When the cache cannot be
  reached the rest of the block is skipped and the request goes on as if the cache held
  nothing (a limit counts as not reached). Each failure adds one to
  ``appkeeper_cache_errors_total{operation}``; a warning is logged at most once a minute
  per operation and process, with the number of failures it stands for, so a dead Redis
  does not write a line per request.
- ``enqueue_quietly(task)`` publishes a task once, on a connection that gives up after
  ``APPKEEPER_REDIS_TIMEOUT_SECONDS`` instead of Celery's reconnect loop; a failure adds
  one to ``appkeeper_enqueue_errors_total{task}``, is logged the same way, and returns
  False. Only work that is already recorded and rescheduled (an outbox row) may be
  enqueued this way.

Failing open is a choice for availability over strictness: while the cache is down,
sign-in attempts and API calls are not limited. The metric and the health check
(``/healthz`` reports ``cache``) are how operators notice.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from redis.exceptions import RedisError

from core.metrics import CACHE_ERRORS, ENQUEUE_ERRORS

logger = logging.getLogger(__name__)

# What an unreachable Redis raises through Django's cache backend (redis-py wraps socket
# errors, but a raw OSError can still escape while a connection is being set up).
CACHE_UNAVAILABLE: tuple[type[Exception], ...] = (RedisError, OSError)
LOG_EVERY_SECONDS = 60.0

_log_lock = threading.Lock()
_last_logged: dict[str, float] = {}
_unreported: dict[str, int] = {}


def log_now(key: str) -> tuple[bool, int]:
    """Whether a warning for ``key`` is due (none in the last ``LOG_EVERY_SECONDS``), and
    how many failures went unlogged before this one."""
    now = time.time()
    with _log_lock:
        last = _last_logged.get(key)
        if last is not None and now - last < LOG_EVERY_SECONDS:
            _unreported[key] = _unreported.get(key, 0) + 1
            return False, 0
        _last_logged[key] = now
        return True, _unreported.pop(key, 0)


def reset_log_limits() -> None:
    """Forget when each warning was last logged (tests start from a quiet state)."""
    with _log_lock:
        _last_logged.clear()
        _unreported.clear()


def record_cache_error(operation: str, exc: BaseException) -> None:
    CACHE_ERRORS.labels(operation).inc()
    due, unreported = log_now(f"cache:{operation}")
    if due:
        logger.warning(
            "Cache unavailable during %s (%s: %s); going on without it "
            "(%d earlier failures not logged)",
            operation,
            exc.__class__.__name__,
            exc,
            unreported,
        )


@contextmanager
def cache_fails_open(operation: str) -> Iterator[None]:
    """Run a block of cache calls; if the cache is unreachable, count and log it and resume
    after the block. Set the block's results to their "nothing cached" values before it."""
    try:
        yield
    except CACHE_UNAVAILABLE as exc:
        record_cache_error(operation, exc)


def fail_fast_transport_options() -> dict[str, float]:
    """Broker transport options for one publish that must not make a request wait."""
    timeout = settings.APPKEEPER_REDIS_TIMEOUT_SECONDS
    return {"socket_connect_timeout": timeout, "socket_timeout": timeout}


def enqueue_quietly(task: Any, *args: Any, **kwargs: Any) -> bool:
    """Publish ``task`` (a task or a signature) once; on a broker failure count it, log it
    and return False."""
    app = task.app
    if app.conf.task_always_eager:  # the task runs here, now; its failure is not ours
        try:
            task.apply_async(args, kwargs)
        except Exception:
            logger.exception("%s failed when run inline", task.name)
            return False
        return True
    try:
        with app.connection_for_write(transport_options=fail_fast_transport_options()) as conn:
            # One try (kombu would otherwise retry until broker_connection_timeout); the
            # publish below then reuses this connection.
            conn.ensure_connection(max_retries=0)
            task.apply_async(args, kwargs, connection=conn, retry=False)
    except Exception as exc:  # any broker or socket error: the work waits for beat
        ENQUEUE_ERRORS.labels(task.name).inc()
        due, unreported = log_now(f"enqueue:{task.name}")
        if due:
            logger.warning(
                "Could not enqueue %s (%s: %s); beat will run it (%d earlier failures not logged)",
                task.name,
                exc.__class__.__name__,
                exc,
                unreported,
            )
        return False
    return True
