from __future__ import annotations

from datetime import UTC, datetime

import pytest
import time_machine

# The quarter 2026-Q3 (1 Jul – 30 Sep, 92 days) has just ended.
NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
# Before every quarter these tests score: a quarter only scores apps registered before it
# ended, and most tests describe apps that were in the registry all along.
REGISTERED = datetime(2025, 10, 1, tzinfo=UTC)


@pytest.fixture
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def registered_when_created():
    """Keep the registration time the clock gave each app (see ``_registered_long_ago``)."""


@pytest.fixture(autouse=True)
def _registered_long_ago(request):
    """Apps made by these tests were registered at ``REGISTERED``, unless the test asks for
    ``registered_when_created``: the tests of which quarters an app belongs on."""
    if "registered_when_created" in request.fixturenames:
        yield
        return
    from django.db.models.signals import post_save

    from catalog.models import MicroApp

    def backdate(sender, instance, created, **kwargs):
        if created:
            MicroApp.objects.filter(pk=instance.pk).update(created_at=REGISTERED)
            instance.created_at = REGISTERED

    post_save.connect(backdate, sender=MicroApp, dispatch_uid="scorecard-tests-registered")
    yield
    post_save.disconnect(sender=MicroApp, dispatch_uid="scorecard-tests-registered")


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
