"""Fixtures for the whole suite: the demo cast (alice, bob, carol, pat, fin) and API clients."""

from __future__ import annotations

import os

import pytest
from rest_framework.test import APIClient

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from tests.factories import RegionFactory, TeamFactory, UserFactory, add_to_group

IN_CI = os.environ.get("CI", "").lower() == "true"
# .ci/run runs the suite twice: on SQLite (`make test`) and on PostgreSQL. PostgreSQL-only
# tests skip, visibly, in the SQLite pass only; anywhere else under CI a skip would hide a
# gap, so they fail.
CI_SQLITE_PASS = os.environ.get("APPKEEPER_TEST_PASS", "") == "sqlite"


def require_postgres(reason: str) -> None:
    """Skip (outside CI, or in CI's SQLite pass) or fail unless the DB is PostgreSQL."""
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    if IN_CI and not CI_SQLITE_PASS:
        pytest.fail(f"CI=true but {reason}")
    pytest.skip(f"{reason} (CI runs it in its PostgreSQL pass)" if IN_CI else reason)


@pytest.fixture(autouse=True)
def _test_settings(settings):
    """Tasks run inline in tests; the real-worker path has its own integration test."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # Real hashers cost up to a second per test user on a busy machine; hashing strength
    # is not what these tests are about.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    yield


@pytest.fixture
def regions(db):
    return {
        "eu-central": RegionFactory(code="eu-central", jurisdiction="EU", pci=True),
        "eu-sovereign": RegionFactory(code="eu-sovereign", jurisdiction="EU", sovereign=True),
        "us-east": RegionFactory(code="us-east", jurisdiction="US", pci=True),
        "uk-south": RegionFactory(code="uk-south", jurisdiction="UK"),
    }


@pytest.fixture
def support_tools(db):
    return TeamFactory(slug="support-tools", name="Support Tools", chat_channel="#support-tools")


@pytest.fixture
def field_ops(db):
    return TeamFactory(slug="field-ops", name="Field Ops")


@pytest.fixture
def platform_team(db):
    return TeamFactory(slug="platform", name="Platform")


@pytest.fixture
def alice(support_tools):
    user = UserFactory(username="alice")
    support_tools.members.add(user)
    return user


@pytest.fixture
def bob(support_tools):
    user = UserFactory(username="bob")
    support_tools.members.add(user)
    return user


@pytest.fixture
def carol(field_ops):
    user = UserFactory(username="carol")
    field_ops.members.add(user)
    return user


@pytest.fixture
def pat(platform_team):
    user = UserFactory(username="pat", is_staff=True)
    platform_team.members.add(user)
    return add_to_group(user, PLATFORM_GROUP)


@pytest.fixture
def fin(db):
    return add_to_group(UserFactory(username="fin"), FINANCE_GROUP)


@pytest.fixture
def api():
    """An API client; call ``api.force_authenticate(user)`` or use ``api_as``."""
    return APIClient()


@pytest.fixture
def api_as():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make
