from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

# The quarter 2026-Q3 (1 Jul – 30 Sep, 92 days) has just ended.
NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture(autouse=True)
def _fresh_cache():
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """Factories hash a password per user; fleets of apps mean fleets of owners."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
