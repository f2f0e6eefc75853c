"""Contract versions stored with rule ids oasdiff has since renamed read under today's ids."""

from __future__ import annotations

import pytest

from catalog.models import Contract
from tests.catalog.test_contracts_api import PETSTORE_V1
from tests.factories import MicroAppFactory

OLD_CHANGES = [
    {
        "id": "added-required-request-body",
        "level": "ERR",
        "message": "required body added",
        "operation": "POST",
        "path": "/pets",
        "location": "request body",
    },
    {
        "id": "api-sunset-deleted",
        "level": "ERR",
        "message": "sunset date removed",
        "operation": "GET",
        "path": "/pets",
        "location": "",
    },
    {
        "id": "endpoint-added",
        "level": "INFO",
        "message": "endpoint added",
        "operation": "GET",
        "path": "/toys",
        "location": "",
    },
]


@pytest.fixture
def stored(alice, support_tools):
    app = MicroAppFactory(slug="pets", team=support_tools, owner=alice, state="active")
    return Contract.objects.create(
        app=app,
        kind="openapi",
        version="1.0.0",
        document=PETSTORE_V1,
        sha256="v1",
        spec_version="3.0.3",
        changes=OLD_CHANGES,
        change_counts={"ERR": 2, "WARN": 0, "INFO": 1},
        breaking=True,
    )


def test_a_stored_version_reads_under_todays_ids(stored):
    contract = Contract.objects.get(pk=stored.pk)
    assert [c["id"] for c in contract.changes] == [
        "request-body-added-required",
        "sunset-deleted",
        "endpoint-added",
    ]
    assert [c["message"] for c in contract.changes] == [c["message"] for c in OLD_CHANGES]
    # A deferred column is renamed when it is loaded later.
    deferred = Contract.objects.defer("changes").get(pk=stored.pk)
    assert deferred.changes[0]["id"] == "request-body-added-required"


def test_the_api_shows_a_stored_version_with_todays_ids(api_as, alice, stored):
    detail = api_as(alice).get("/api/v1/apps/pets/contracts/1.0.0/").json()
    assert [c["id"] for c in detail["changes"]][:2] == [
        "request-body-added-required",
        "sunset-deleted",
    ]
