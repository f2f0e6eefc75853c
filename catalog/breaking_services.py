"""What follows a breaking contract version: the notices to the dependents it touches,
their acknowledgements, and the version taking effect when its migration window ends.

Services like ``catalog.services``: keyword-only, one transaction each, audited.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.urls import reverse
from django.utils import timezone

from catalog import impact, permissions, policies
from catalog.contract_impact import ContractImpact
from catalog.models import (
    FREE_TEXT_MAX,
    AuditEvent,
    Contract,
    ContractAcknowledgement,
    Dependency,
    MicroApp,
    Notification,
    TransitionError,
)
from catalog.notifications import answering_person_id, queue
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


def _addressee(app: MicroApp) -> dict:
    """Who a notice for a dependent's owner goes to: the owner, a team-owned app's team
    lead, or with no lead its team (the contact address)."""
    person = answering_person_id(app)
    return {"recipient_id": person} if person is not None else {"team_id": app.team_id}


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
        **_addressee(app),
        app=app,
        kind="contract_breaking",
        subject=f"{provider.name} {contract.version} breaks what {app.name} calls"[:200],
        body=body,
        link=version_link(contract, dependent=app),
        dedupe_key=f"contract-breaking:{contract.pk}:{app.pk}:{answering_person_id(app)}"[:200],
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
    if contract.withdrawn_at is not None:
        raise ValidationError(
            {"version": f"Version {contract.version} was withdrawn: nothing to prepare for."}
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
        **_addressee(app),
        app=app,
        kind="contract_effective",
        subject=f"{provider.name} {contract.version} is now live"[:200],
        body=(
            f"{provider.name} API version {contract.version} took effect on "
            f"{moment(contract.effective_at)}. Its {len(changes)} breaking change(s) to what "
            f"{app.name} calls are now in production."
        ),
        link=version_link(contract, dependent=app),
        dedupe_key=f"contract-effective:{contract.pk}:{app.pk}:{answering_person_id(app)}"[:200],
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
    ).select_related("from_microapp__owner", "from_microapp__team")
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


# --- withdrawing and rescheduling a scheduled version -------------------------------------


class ScheduleRefused(ValidationError):
    """A reschedule whose new date breaks the migration window the dependents were promised
    (422, the message on ``effective_at``); nothing changes."""

    code = "schedule_refused"


WINDOW_KEPT = (
    "The dependents were told on {notified}: moving the date earlier must still leave them "
    "{days} days from then, so pick {earliest} or later, or ask the platform team to "
    "override the migration window (override_reason)."
)


def _scheduled_for_change(*, contract: Contract, actor: Actor, now: datetime) -> Contract:
    """Lock the provider and the version, and check the version may still change: not
    withdrawn, not in effect, and not built upon by a later upload of the same kind.

    The app row is locked first, as ``contract_upload`` does, so an upload diffed against
    this version and a withdrawal of it happen one after the other, never interleaved.
    """
    permissions.require("upload_contract", actor, contract.app)
    app = MicroApp.objects.select_for_update().get(pk=contract.app_id)
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    locked.app = app
    if locked.withdrawn_at is not None:
        raise TransitionError(
            f"Version {locked.version} was withdrawn on {moment(locked.withdrawn_at)}.",
            code="already_withdrawn",
        )
    if locked.effective_at is None or locked.effective_at <= now:
        raise TransitionError(
            f"Version {locked.version} is already in effect; upload a new version instead.",
            code="already_in_effect",
        )
    # A later upload was diffed against this one and inherited its date: its changes are
    # stored relative to this version, so this one cannot go (or move) on its own.
    later = (
        app.contracts.not_withdrawn()
        .filter(kind=locked.kind)
        .filter(
            models.Q(created_at__gt=locked.created_at)
            | models.Q(created_at=locked.created_at, pk__gt=locked.pk)
        )
        .order_by("created_at", "pk")
        .values_list("version", flat=True)
        .first()
    )
    if later is not None:
        raise TransitionError(
            f"Version {later} was uploaded after {locked.version} and builds on it: "
            f"withdraw or reschedule {later} first.",
            code="built_upon",
        )
    return locked


def _notified(contract: Contract) -> list[Notification]:
    """The breaking notices sent for ``contract`` at its upload, one per (dependent,
    owner then): whoever was told the change is coming is told what became of it, even if
    the dependent changed owner or stopped calling the provider since. One query."""
    return list(
        Notification.objects.filter(
            kind="contract_breaking", dedupe_key__startswith=f"contract-breaking:{contract.pk}:"
        )
        .select_related("app")
        .order_by("pk")
    )


def _withdrawn_notice(contract: Contract, sent: Notification) -> Notification:
    provider, app = contract.app, sent.app
    assert app is not None  # breaking notices always name the dependent
    return Notification(
        recipient_id=sent.recipient_id,
        team_id=sent.team_id,
        app=app,
        kind="contract_withdrawn",
        subject=f"{provider.name} {contract.version} is withdrawn"[:200],
        body="\n".join(
            [
                f"{provider.name} withdrew API version {contract.version} before it took "
                "effect: its breaking changes will not happen, and nothing needs to change "
                f"in {app.name} for it.",
                f"Reason: {contract.withdrawn_reason}",
            ]
        ),
        link=version_link(contract, dependent=app),
        dedupe_key=f"contract-withdrawn:{contract.pk}:{app.pk}:{sent.recipient_id}"[:200],
    )


@transaction.atomic
def contract_withdraw(*, contract: Contract, actor: Actor, reason: str) -> Contract:
    """Withdraw a scheduled version before it takes effect; returns it, marked.

    Nothing is deleted: the version stays listed as withdrawn, its label stays taken and
    its page keeps who acknowledged it. It never becomes current, the take-effect job skips
    it, and the next upload is diffed against the version before it. Everyone its upload
    notified gets one notice that the change is off (AuditEvent ``contract_withdrawn``).
    Refused: 403 for someone who may not upload contracts for the app; TransitionError
    (409) when it is withdrawn already, in effect already or built upon.
    """
    reason = reason.strip()
    if not reason:
        raise ValidationError({"reason": "Say why the version is withdrawn."})
    if len(reason) > FREE_TEXT_MAX:
        raise ValidationError({"reason": f"At most {FREE_TEXT_MAX} characters."})
    now = timezone.now()
    contract = _scheduled_for_change(contract=contract, actor=actor, now=now)
    contract.withdrawn_at = now
    contract.withdrawn_by = actor if actor is not None and actor.is_authenticated else None
    contract.withdrawn_reason = reason
    contract.save(update_fields=["withdrawn_at", "withdrawn_by", "withdrawn_reason"])
    sent = _notified(contract)
    AuditEvent.record(
        app=contract.app,
        actor=actor,
        action="contract_withdrawn",
        comment=reason,
        data={
            "version": contract.version,
            "effective_at": contract.effective_at.isoformat() if contract.effective_at else None,
            "dependents_notified": sorted({n.app.slug for n in sent if n.app is not None}),
        },
    )
    queue(_withdrawn_notice(contract, n) for n in sent)
    return contract


def _rescheduled_notice(contract: Contract, sent: Notification, before: datetime) -> Notification:
    provider, app = contract.app, sent.app
    assert app is not None and contract.effective_at is not None
    direction = "later" if contract.effective_at > before else "earlier"
    return Notification(
        recipient_id=sent.recipient_id,
        team_id=sent.team_id,
        app=app,
        kind="contract_rescheduled",
        subject=(
            f"{provider.name} {contract.version} now takes effect on "
            f"{moment(contract.effective_at)}"
        )[:200],
        body="\n".join(
            [
                f"{provider.name} moved API version {contract.version} {direction}: it takes "
                f"effect on {moment(contract.effective_at)} instead of {moment(before)}.",
                *(
                    [
                        "The platform team shortened the migration window: "
                        f"{contract.override_reason}"
                    ]
                    if direction == "earlier" and contract.override_reason
                    else []
                ),
                f"An acknowledgement already given for {app.name} still stands.",
            ]
        ),
        link=version_link(contract, dependent=app),
        dedupe_key=(
            f"contract-rescheduled:{contract.pk}:{contract.effective_at.isoformat()}:"
            f"{app.pk}:{sent.recipient_id}"
        )[:200],
    )


@transaction.atomic
def contract_reschedule(
    *, contract: Contract, actor: Actor, effective_at: datetime, override_reason: str = ""
) -> Contract:
    """Move a scheduled version's date; returns it.

    Later is always allowed. Earlier must keep the window the dependents were promised:
    at least ``APPKEEPER_BREAKING_NOTICE_DAYS`` after their notices went out (the upload),
    unless the platform team overrides with ``override_reason``; otherwise
    :class:`ScheduleRefused` (422). A version whose upload notified nobody may move to any
    future moment. Acknowledgements stay; everyone notified hears the new date once
    (AuditEvent ``contract_rescheduled``). The same 403 and 409s as :func:`contract_withdraw`.
    """
    override_reason = override_reason.strip()
    if override_reason and not permissions.is_platform(actor):
        raise PermissionDenied("Only the platform team may override the migration window.")
    if len(override_reason) > FREE_TEXT_MAX:
        raise ValidationError({"override_reason": f"At most {FREE_TEXT_MAX} characters."})
    now = timezone.now()
    if effective_at <= now:
        raise ScheduleRefused(
            {"effective_at": "Pick a moment in the future; to cancel the version, withdraw it."}
        )
    contract = _scheduled_for_change(contract=contract, actor=actor, now=now)
    before = contract.effective_at
    assert before is not None  # _scheduled_for_change refuses unscheduled versions
    if effective_at == before:
        raise ScheduleRefused({"effective_at": f"It is already scheduled for {moment(before)}."})
    sent = _notified(contract)
    if effective_at < before and sent and not override_reason:
        notified = min(n.created_at for n in sent)
        earliest = notified + timedelta(days=policies.notice_days())
        if effective_at < earliest - policies.NOTICE_SLACK:
            raise ScheduleRefused(
                {
                    "effective_at": WINDOW_KEPT.format(
                        notified=moment(notified),
                        days=policies.notice_days(),
                        earliest=moment(earliest),
                    )
                }
            )
    contract.effective_at = effective_at
    fields = ["effective_at"]
    if override_reason and effective_at < before:
        contract.override_reason = override_reason
        fields.append("override_reason")
    contract.save(update_fields=fields)
    AuditEvent.record(
        app=contract.app,
        actor=actor,
        action="contract_rescheduled",
        changes={"effective_at": [before.isoformat(), effective_at.isoformat()]},
        comment=override_reason if "override_reason" in fields else "",
        data={
            "version": contract.version,
            "override_reason": override_reason if "override_reason" in fields else "",
            "dependents_notified": sorted({n.app.slug for n in sent if n.app is not None}),
        },
    )
    queue(_rescheduled_notice(contract, n, before) for n in sent)
    return contract
