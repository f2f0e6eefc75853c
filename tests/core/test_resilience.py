"""With Redis up, the limits that fail open when it is down still hold: the sign-in limiter
reads both counts in one round trip and refuses past the limit on a real Redis."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from tests.conftest import IN_CI
from tests.factories import PASSWORD
from tests.redis_down import cache_errors

pytestmark = pytest.mark.django_db
LIVE_REDIS = "redis://127.0.0.1:6379/11"


@pytest.fixture
def live_redis_cache(settings):
    import redis

    try:
        redis.Redis.from_url(LIVE_REDIS, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if IN_CI:
            pytest.fail("CI=true but needs Redis on 127.0.0.1:6379")
        pytest.skip("needs Redis on 127.0.0.1:6379")
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
    before = cache_errors("login_check")
    for _ in range(2):
        assert client.post("/login/", {"username": "alice", "password": "wrong"}).status_code == 200
    refused = client.post("/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 429
    assert cache_errors("login_check") == before
