"""With Redis up, what fails open or quietly when it is down still does its job: the
sign-in limit refuses past the limit, and the one-try publish reaches the queue."""

from __future__ import annotations

import json
import uuid

import pytest
from django.core.cache import cache

from core import resilience
from tests.conftest import IN_CI
from tests.factories import PASSWORD
from tests.redis_down import cache_errors

pytestmark = pytest.mark.django_db
LIVE_REDIS = "redis://127.0.0.1:6379/11"
LIVE_BROKER = "redis://127.0.0.1:6379/12"


def live_redis(url: str):
    import redis

    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail("CI=true but needs Redis on 127.0.0.1:6379")
        pytest.skip("needs Redis on 127.0.0.1:6379")
    return client


@pytest.fixture
def live_redis_cache(settings):
    live_redis(LIVE_REDIS)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": LIVE_REDIS,
            "KEY_PREFIX": "appkeeper-test-resilience",
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        }
    }
    cache.clear()
    yield
    cache.clear()


@pytest.mark.usefixtures("live_redis_cache")
def test_the_sign_in_limit_holds_on_a_live_redis(client, alice, settings):
    settings.APPKEEPER_LOGIN_MAX_ATTEMPTS = 2
    before = cache_errors("login_record")
    for _ in range(2):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    refused = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert cache_errors("login_record") == before


def test_the_one_try_publish_reaches_a_live_broker(settings):
    from catalog.tasks import send_notifications
    from config.celery import app

    client = live_redis(LIVE_BROKER)
    queue = f"appkeeper-test-{uuid.uuid4().hex[:8]}"
    broker_url = app.conf.broker_url
    app.conf.broker_url = LIVE_BROKER
    app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    try:
        assert resilience.enqueue_quietly(send_notifications.s().set(queue=queue))
        [raw] = client.lrange(queue, 0, -1)
        assert json.loads(raw)["headers"]["task"] == "catalog.send_notifications"
    finally:
        app.conf.broker_url = broker_url
        client.delete(queue)
