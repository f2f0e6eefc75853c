"""Builders for scorecard and chargeback tests: usage rows, contracts, notices, actions."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from catalog.models import AuditEvent, Contract, MicroApp, Notification
from lifecycle.models import UsageReport
from tests.factories import MicroAppFactory

# Early in 2026-Q3, so the contract counts for that quarter's scorecards.
EARLY = datetime(2026, 7, 2, 9, 0, tzinfo=UTC)


def add_usage(
    app: MicroApp,
    region,
    first: date,
    days: int,
    *,
    requests: int = 1000,
    cost: str | Decimal = "1.0000",
    errors: int = 0,
) -> list[UsageReport]:
    """One report per day for ``days`` days from ``first``, in one insert."""
    return UsageReport.objects.bulk_create(
        UsageReport(
            app=app,
            region=region,
            date=first + timedelta(days=i),
            requests=requests,
            errors=errors,
            cost=Decimal(cost),
        )
        for i in range(days)
    )


def add_contract(app: MicroApp, *, valid: bool = True, at: datetime | None = EARLY, version="1"):
    contract = Contract.objects.create(
        app=app,
        kind="openapi",
        version=version,
        document={"openapi": "3.0.3"},
        sha256=Contract.digest(f"{app.slug}-{version}"),
        spec_version="3.0",
        is_valid=valid,
    )
    if at is not None:
        Contract.objects.filter(pk=contract.pk).update(created_at=at)
    return contract


def add_notice(app: MicroApp, at: datetime, *, kind: str = "expiry_reminder", recipient=None):
    note = Notification.objects.create(
        recipient=recipient or app.owner,
        app=app,
        kind=kind,
        subject="Please act",
        body="...",
        dedupe_key=f"{kind}:{app.pk}:{at.isoformat()}:{(recipient or app.owner).pk}",
    )
    Notification.objects.filter(pk=note.pk).update(created_at=at)
    return note


def add_action(app: MicroApp, actor, at: datetime, action: str = "renewed") -> AuditEvent:
    return AuditEvent.objects.create(app=app, actor=actor, action=action, at=at)


def documented_app(**kwargs) -> MicroApp:
    """An app with full documentation (a valid contract is added separately)."""
    defaults = {
        "description": "Routes support tickets to the right queue by language and product.",
        "docs_url": "https://docs.example.com/app",
        "runbook_url": "https://runbooks.example.com/app",
    }
    return MicroAppFactory(**{**defaults, **kwargs})
