"""Shared builders for the gate, review and escalation tests."""

from __future__ import annotations

from itertools import count

from django.utils import timezone

from catalog.models import Contract, MicroApp
from tests.factories import MicroAppFactory

_versions = count(1)


def add_contract(app: MicroApp, *, valid: bool = True) -> Contract:
    n = next(_versions)
    return Contract.objects.create(
        app=app,
        kind="openapi",
        version=f"1.{n}.0",
        sha256=f"{n:064d}",
        is_valid=valid,
        document={"openapi": "3.1.0", "info": {"title": app.name, "version": "1"}, "paths": {}},
    )


def ready_app(*, team, owner, regions=(), contract: bool = True, **fields) -> MicroApp:
    """A draft that passes the gate: owner, team, SLA, a valid contract, fresh heartbeat."""
    fields.setdefault("last_seen_at", timezone.now())
    app = MicroAppFactory(team=team, owner=owner, regions=list(regions), **fields)
    if contract:
        add_contract(app)
    return app


def pii_app(*, team, owner, regions, **fields) -> MicroApp:
    """A high-risk (PII, EU) draft that passes the gate."""
    return ready_app(
        team=team,
        owner=owner,
        regions=[regions["eu-sovereign"]],
        handles_pii=True,
        data_residency="EU",
        **fields,
    )
