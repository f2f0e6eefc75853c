"""What follows a breaking contract version: the notices to the dependents it touches,
their acknowledgements, and the version taking effect when its migration window ends.

Services like ``catalog.services``: keyword-only, one transaction each, audited.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone

from catalog import impact, permissions
from catalog.contract_impact import ContractImpact
from catalog.models import (
    AuditEvent,
    Contract,
    ContractAcknowledgement,
    Dependency,
    MicroApp,
    Notification,
)
from catalog.notifications import queue
from core.formats import moment
from core.types import Actor

# Changes listed in one notice; the version page has them all.
NOTICE_CHANGES = 20


def version_link(contract: Contract, *, dependent: MicroApp | None = None) -> str:
    url = reverse("app-contract-docs", args=[contract.app.slug, contract.version])
    return f"{url}?dependent={dependent.slug}#acknowledgements" if dependent else url


def _when(contract: Contract) -> str:
    if contract.is_scheduled:
        return f"It takes effect on {moment(contract.effective_at)}."
    if contract.override_reason:
        return (
            "It took effect at once: the platform team overrode the migration window "
            f"({contract.override_reason})."
        )
    return "It took effect at once."


def _breaking_notice(
    contract: Contract, dependent: impact.Dependent, changes: list
) -> Notification:
    provider, app = contract.app, dependent.app
    lines = [f"- {c['id']}: {c['message']}" for c in changes[:NOTICE_CHANGES]]
    if len(changes) > NOTICE_CHANGES:
        lines.append(f"- … and {len(changes) - NOTICE_CHANGES} more on the version page.")
    scope = (
        f"what {app.name} declared it calls"
        if dependent.uses
        else f"{provider.name}'s API ({app.name} declares no operations, so every change counts)"
    )
    body = "\n".join(
        [
            f"{provider.name} registered API version {contract.version} with "
            f"{len(changes)} breaking change(s) to {scope}.",
            _when(contract),
            "",
            *lines,
            "",
            f"Acknowledge it for {app.name} once you have a plan, so the owners of "
            f"{provider.name} know you are ready.",
        ]
    )
    return Notification(
        recipient=app.owner,
        app=app,
        kind="contract_breaking",
        subject=f"{provider.name} {contract.version} breaks what {app.name} calls"[:200],
        body=body,
        link=version_link(contract, dependent=app),
        dedupe_key=f"contract-breaking:{contract.pk}:{app.pk}:{app.owner_id}"[:200],
    )


def breaking_notices_queue(*, contract: Contract, found: ContractImpact) -> int:
    """One notice per touched direct dependent's owner, listing the changes that touch it
    and when they take effect; queued once per (version, dependent, owner). One insert.

    Dependents whose declared operations are untouched hear nothing; dependents of
    dependents hear from their own providers, which the impact answer lists them under.
    """
    notes = [
        _breaking_notice(contract, dependent, found.touching[dependent.app.pk])
        for dependent in found.touched
    ]
    queue(notes)
    return len(notes)


@transaction.atomic
def contract_acknowledge(
    *, contract: Contract, dependent: MicroApp, actor: Actor, comment: str = ""
) -> tuple[ContractAcknowledgement, bool]:
    """Record that ``dependent``'s owners have seen a breaking version; ``(ack, created)``.

    A second acknowledgement returns the first unchanged, so a retried request or a double
    click records one. Refused (ValidationError on ``app``) for an app that does not call
    the provider or is no longer live, and for a version without breaking changes.
    """
    if not permissions.can_edit(actor, dependent):
        raise PermissionDenied(
            f"Only {dependent.name}'s owner, its team or the platform team may acknowledge for it."
        )
    if not contract.breaking:
        raise ValidationError(
            {"version": f"Version {contract.version} has no breaking change to acknowledge."}
        )
    calls = contract.app.dependent_links.filter(
        from_microapp=dependent, from_microapp__state__in=impact.IMPACT_STATES
    )
    if not calls.exists():
        raise ValidationError(
            {"app": f"{dependent.name} is not a live app depending on {contract.app.name}."}
        )
    existing = ContractAcknowledgement.objects.filter(contract=contract, dependent=dependent)
    found = existing.select_related("acknowledged_by").first()
    if found is not None:
        return found, False
    ack = ContractAcknowledgement(
        contract=contract,
        dependent=dependent,
        acknowledged_by=actor if actor is not None and actor.is_authenticated else None,
        comment=comment.strip(),
    )
    try:
        with transaction.atomic():
            ack.save(force_insert=True)
    except IntegrityError:  # a concurrent request acknowledged first: that one stands
        return existing.get(), False
    AuditEvent.record(
        app=dependent,
        actor=actor,
        action="contract_acknowledged",
        comment=ack.comment,
        data={"provider": contract.app.slug, "version": contract.version},
    )
    return ack, True


def _took_effect_notice(contract: Contract, app: MicroApp, changes: list) -> Notification:
    provider = contract.app
    return Notification(
        recipient=app.owner,
        app=app,
        kind="contract_effective",
        subject=f"{provider.name} {contract.version} is now live"[:200],
        body=(
            f"{provider.name} API version {contract.version} took effect on "
            f"{moment(contract.effective_at)}. Its {len(changes)} breaking change(s) to what "
            f"{app.name} calls are now in production."
        ),
        link=version_link(contract, dependent=app),
        dedupe_key=f"contract-effective:{contract.pk}:{app.pk}:{app.owner_id}"[:200],
    )


@transaction.atomic
def contracts_take_effect(*, now: datetime | None = None, limit: int = 500) -> int:
    """Record each scheduled version whose time has come (AuditEvent ``contract_effective``)
    and tell the direct dependents its breaking changes touch that it is live; returns how
    many versions it recorded.

    The due versions are claimed with their row locks (SKIP LOCKED on PostgreSQL) and
    marked in the same transaction, so a second run or a second worker records nothing
    twice. The same few queries for one version or five hundred.
    """
    now = now or timezone.now()
    due = (
        Contract.objects.due_to_take_effect(now)
        .select_related("app")
        .order_by("effective_at", "pk")
    )
    if connection.features.has_select_for_update_skip_locked:
        due = due.select_for_update(skip_locked=True, of=("self",))
    contracts = list(due[:limit])
    if not contracts:
        return 0
    Contract.objects.filter(pk__in=[c.pk for c in contracts]).update(took_effect_recorded_at=now)
    AuditEvent.objects.bulk_create(
        [
            AuditEvent.build(
                app=c.app,
                actor=None,
                action="contract_effective",
                changes={"contract": [None, c.version]},
                data={"version": c.version, "effective_at": c.takes_effect_at.isoformat()},
            )
            for c in contracts
        ]
    )
    breaking = [c for c in contracts if c.breaking]
    callers: dict[int, list[Dependency]] = defaultdict(list)
    links = Dependency.objects.filter(
        to_microapp_id__in={c.app_id for c in breaking},
        from_microapp__state__in=impact.IMPACT_STATES,
    ).select_related("from_microapp__owner")
    for link in links:
        callers[link.to_microapp_id].append(link)
    notes = []
    for contract in breaking:
        for link in callers[contract.app_id]:
            hits = impact.changes_touching(contract.changes, link.uses)
            if hits:
                notes.append(_took_effect_notice(contract, link.from_microapp, hits))
    queue(notes)
    return len(contracts)
