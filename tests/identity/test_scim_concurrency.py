"""Two provisioning calls at once: the same person created twice in different cases
yields one account and one 409. Needs PostgreSQL (parallel transactions): run with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper_scim``."""

from __future__ import annotations

import threading

import pytest
from django.contrib.auth import get_user_model
from django.db import connection

from identity.scim import tokens
from tests.conftest import require_postgres
from tests.identity.conftest import ScimClient

pytestmark = pytest.mark.django_db(transaction=True)


def at_once(*calls) -> list:
    """Run each call on its own thread (and connection), released together."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = calls[index]()
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_one_account_for_two_spellings_created_at_once():
    require_postgres("needs PostgreSQL for concurrent transactions")
    _, value = tokens.issue(name="Okta", actor=None)

    def create(name: str):
        return lambda: ScimClient(value).post("Users", {"userName": name}).status_code

    statuses = at_once(create("Jo.Doe@example.com"), create("jo.doe@example.com"))

    assert sorted(statuses) == [201, 409]
    assert get_user_model().objects.filter(username__iexact="jo.doe@example.com").count() == 1
