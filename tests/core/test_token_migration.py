"""Upgrading from DRF's clear-text tokens: each key becomes a hashed token and keeps
working, and no clear-text key is left in the database."""

from __future__ import annotations

import importlib
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.apps import apps
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from core.models import ApiToken

pytestmark = pytest.mark.django_db

migration = importlib.import_module("core.migrations.0003_hash_cleartext_tokens")
OLD_KEY = "0f3c2a9be4d1c7a85e6b0d9f2c4a1e3b5d7f9a0c"


@pytest.fixture
def old_token_table(alice):
    """The table rest_framework.authtoken left behind, with alice's key in it."""
    with connection.cursor() as cursor:
        cursor.execute(
            'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
            '"created" timestamp with time zone NOT NULL, "user_id" integer NOT NULL)'
            if connection.vendor == "postgresql"
            else 'CREATE TABLE authtoken_token ("key" varchar(40) NOT NULL PRIMARY KEY, '
            '"created" datetime NOT NULL, "user_id" integer NOT NULL)'
        )
        cursor.execute(
            "INSERT INTO authtoken_token (key, created, user_id) VALUES (%s, %s, %s)",
            [OLD_KEY, timezone.now() - timedelta(days=400), alice.pk],
        )
    yield
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS authtoken_token")


def run_migration() -> None:
    # The function needs of the schema editor only its connection and quoting; SQLite's real
    # editor cannot be opened inside the test's transaction.
    editor = SimpleNamespace(connection=connection, quote_name=connection.ops.quote_name)
    migration.hash_cleartext_tokens(apps, editor)


def test_old_keys_become_hashed_expiring_tokens_that_keep_working(old_token_table, alice, settings):
    settings.APPKEEPER_API_TOKEN_DAYS = 90
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {OLD_KEY}")
    assert client.get("/api/v1/teams/").status_code == 401  # before: no hashed copy yet

    run_migration()

    token = ApiToken.objects.get(user=alice)
    assert token.name == "migrated"
    assert token.prefix == OLD_KEY[:8]
    assert token.digest != OLD_KEY and OLD_KEY not in token.digest
    assert token.created < timezone.now() - timedelta(days=399)  # its history is kept
    assert timedelta(days=89) < token.expires_at - timezone.now() <= timedelta(days=90)
    assert client.get("/api/v1/teams/").status_code == 200
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM authtoken_token")
        assert cursor.fetchone()[0] == 0  # no clear-text key is left


def test_a_database_that_never_had_the_old_table_migrates_to_nothing(alice):
    assert "authtoken_token" not in connection.introspection.table_names()
    run_migration()
    assert not ApiToken.objects.exists()
