"""Pointing the cache and the broker at a port where nothing listens, as when the Redis of
docker-compose is down: the real redis client and kombu transport, refused connections."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from core import resilience

DEAD_REDIS = "redis://127.0.0.1:6399/0"


@pytest.fixture
def redis_down(settings):
    """Cache (as production builds it from CACHE_URL) and broker on a closed port, tasks
    published for real instead of run inline, and the log limits reset."""
    from config.celery import app

    timeout = settings.APPKEEPER_REDIS_TIMEOUT_SECONDS
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": DEAD_REDIS,
            "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
        }
    }
    broker_url = app.conf.broker_url
    app.conf.broker_url = DEAD_REDIS
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.CELERY_BROKER_URL = DEAD_REDIS
    resilience.reset_log_limits()
    yield
    app.conf.broker_url = broker_url
    resilience.reset_log_limits()


def cache_errors(operation: str) -> float:
    return REGISTRY.get_sample_value("appkeeper_cache_errors_total", {"operation": operation}) or 0


def enqueue_errors(task: str) -> float:
    return REGISTRY.get_sample_value("appkeeper_enqueue_errors_total", {"task": task}) or 0
