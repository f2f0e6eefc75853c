"""Multi-object writes of the registry, one transaction each, each leaving an audit trail."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from catalog import gate, permissions, policies, retirement
from catalog.backstage import relations as backstage_relations
from catalog.choices import AppState, ReviewDecision
from catalog.models import (
    FREE_TEXT_MAX,
    AuditEvent,
    Dependency,
    MicroApp,
    Region,
    Review,
    Team,
    TransitionError,
)
from catalog.notifications import (
    notify_owners,
    notify_platform_team,
    platform_team,
    platform_team_notifications,
    queue,
)
from core.types import Actor, AnyUser, SignedInUser
from core.webhooks import new_secret

# Written after the app row: the regions, the co-owners, and its dependencies either as
# bare apps (``depends_on``) or with how each is used (``dependencies``).
M2M_FIELDS = ("regions", "co_owners", "depends_on", "dependencies")


def _split(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    plain = {k: v for k, v in data.items() if k not in M2M_FIELDS}
    relations = {k: v for k, v in data.items() if k in M2M_FIELDS}
    return plain, relations


def _set_relations(app: MicroApp, relations: dict[str, Any]) -> None:
    if "regions" in relations:
        app.regions.set(relations["regions"])
    if "co_owners" in relations:
        # The owner is never also listed as a co-owner: one person, one entry.
        app.co_owners.set([p for p in relations["co_owners"] if p.pk != app.owner_id])
    if "dependencies" in relations:
        _set_dependencies(app, relations["dependencies"])
    elif "depends_on" in relations:
        # Links that stay keep their details; new ones start without.
        app.depends_on.set(relations["depends_on"])


def _set_dependencies(app: MicroApp, declared: Iterable[dict[str, Any]]) -> None:
    """Make ``app``'s links exactly ``declared``: ``{"to_microapp": MicroApp, "uses": [...],
    "version_range": "..."}`` each. A key left out keeps what an existing link has (a new
    link starts empty), so a client can change a range without resending the uses."""
    wanted: dict[int, dict[str, Any]] = {}
    for entry in declared:
        provider = entry["to_microapp"]
        if provider.pk == app.pk:
            raise ValidationError({"dependencies": ["An app cannot depend on itself."]})
        wanted[provider.pk] = entry
    current = {link.to_microapp_id: link for link in app.dependency_links.all()}
    gone = [pk for pk in current if pk not in wanted]
    if gone:
        Dependency.objects.filter(from_microapp=app, to_microapp_id__in=gone).delete()
    added, changed = [], []
    for pk, entry in wanted.items():
        link = current.get(pk)
        if link is None:
            added.append(
                Dependency(
                    from_microapp=app,
                    to_microapp_id=pk,
                    uses=entry.get("uses", []),
                    version_range=entry.get("version_range", ""),
                )
            )
            continue
        uses = entry.get("uses", link.uses)
        version_range = entry.get("version_range", link.version_range)
        if (uses, version_range) != (link.uses, link.version_range):
            link.uses, link.version_range = uses, version_range
            changed.append(link)
    Dependency.objects.bulk_create(added)
    Dependency.objects.bulk_update(changed, ["uses", "version_range"])


def _diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    return {k: [before.get(k), v] for k, v in after.items() if before.get(k) != v}


SLUG_TAKEN = "Another app already uses this slug."


@transaction.atomic
def app_register(*, actor: Actor, data: dict[str, Any]) -> MicroApp:
    """Create an app in ``draft`` with its regions and dependencies, and record who did it.

    The app gets its telemetry ingestion secret at once; the caller shows it this one time
    (``app.ingestion_secret`` right after the call) and never again.
    """
    plain, relations = _split(data)
    app = MicroApp(**plain)
    app.full_clean(exclude=["regions", "depends_on", "co_owners"])
    _enforce_policies(
        app,
        regions=relations.get("regions", ()),
        contract_ok=False,
        before=(),
        depends_on=relations.get("depends_on", ()),
    )
    app.ingestion_secret = new_secret()
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        # full_clean saw the slug free, but a concurrent registration took it before this
        # insert: the unique index is the real arbiter, and the answer is the same 400.
        if MicroApp.objects.filter(slug=app.slug).exists():
            raise ValidationError({"slug": [SLUG_TAKEN]}) from None
        raise
    _set_relations(app, relations)
    app_record_change(app=app, actor=actor, before=None)
    backstage_relations.app_registered(app)
    return app


@transaction.atomic
def app_update(*, app: MicroApp, actor: Actor, data: dict[str, Any]) -> MicroApp:
    """Apply a partial update; the audit event carries only the fields that really changed."""
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    before = app.audit_snapshot()
    regions_before = list(app.regions.all())
    contract_ok = policies.latest_contract_is_valid(app)
    findings_before = policies.evaluate_app(
        app, regions=regions_before, has_valid_contract=contract_ok
    )
    plain, relations = _split(data)
    owner_before = app.owner_id
    for field, value in plain.items():
        setattr(app, field, value)
    adopted = app.orphaned_at is not None and app.owner_id != owner_before
    if adopted:
        # Someone was given the orphaned app, or its team as a whole: it is answered for.
        app.orphaned_at = None
    app.full_clean(exclude=["regions", "depends_on", "co_owners"])
    _enforce_policies(
        app,
        regions=relations.get("regions", regions_before),
        contract_ok=contract_ok,
        before=findings_before,
        depends_on=relations.get("depends_on"),
    )
    app.save()
    _set_relations(app, relations)
    if app.owner_id is not None and app.owner_id != owner_before:
        app.co_owners.remove(app.owner_id)
    extra = {"orphaned": [True, False]} if adopted else None
    app_record_change(app=app, actor=actor, before=before, extra=extra)
    return app


def _enforce_policies(
    app: MicroApp,
    *,
    regions: Iterable[Region],
    contract_ok: bool,
    before: Iterable[policies.Finding],
    depends_on: Iterable[MicroApp] | None = None,
) -> None:
    """Refuse the save on new blocking findings (field-keyed, so the API answers 400 with
    field messages); otherwise leave all findings on ``app.policy_findings`` for the caller
    to show. See ``catalog.policies`` for why contract findings wait for the gate."""
    findings = policies.evaluate_app(
        app, regions=regions, has_valid_contract=contract_ok, depends_on=depends_on
    )
    errors = policies.save_errors(findings, before=before)
    if errors:
        raise ValidationError(errors)
    app.policy_findings = findings


def app_record_change(
    *,
    app: MicroApp,
    actor: Actor,
    before: dict[str, Any] | None,
    extra: dict[str, list[Any]] | None = None,
) -> AuditEvent | None:
    """Record a creation (``before`` is None) or the fields an update really changed
    (with ``extra`` changes that are no field of the snapshot, e.g. the orphaned flag)."""
    after = app.audit_snapshot()
    if before is None:
        changes = {k: [None, v] for k, v in after.items()}
        return AuditEvent.record(app=app, actor=actor, action="created", changes=changes)
    changes = {**_diff(before, after), **(extra or {})}
    if not changes:
        return None
    return AuditEvent.record(app=app, actor=actor, action="updated", changes=changes)


@transaction.atomic
def app_retire(
    *, app: MicroApp, actor: Actor, reason: str, confirm_dependents: Collection[str] = ()
) -> MicroApp:
    """Retire an app by hand. While live apps call it, ``confirm_dependents`` must name
    each of them by slug (``retirement.DependentsNotConfirmed`` otherwise); the retired
    event records who they were, and their owners are told."""
    app = MicroApp.objects.select_for_update().get(pk=app.pk)
    dependents = retirement.require_confirmation(app, confirm_dependents)
    app.retire(by=actor, reason=reason, data=retirement.confirmed_data(dependents))
    retirement.tell_dependents_of_retirement(app, dependents)
    return app


# --- go-live gate and review board ---------------------------------------


class ReviewAlreadyDecided(TransitionError):
    """A second decision on a review someone has already decided."""


@transaction.atomic
def app_submit(*, app: MicroApp, actor: Actor) -> MicroApp:
    """Move a ``draft`` app through the go-live gate.

    1. Lock the app and check it is a draft (else a TransitionError: 409).
    2. Run the gate checklist; a miss raises ``gate.GateFailed`` carrying the checklist.
    3. Low risk: activate now (starts the expiry clock).
    4. High risk: ``in_review``, open a Review due in APPKEEPER_REVIEW_HOURS and tell the
       platform team through the outbox (so a rolled-back submit notifies nobody).
    """
    app = (
        MicroApp.objects.select_for_update(of=("self",))
        .select_related("team", "owner")
        .get(pk=app.pk)
    )
    if app.state != AppState.DRAFT:
        raise TransitionError(
            f"Only draft apps can be submitted; this one is {app.get_state_display().lower()}.",
            code="invalid_transition",
        )
    result = gate.check(app)
    if not result.passed:
        raise gate.GateFailed(result)
    if not app.is_high_risk:
        app.activate(by=actor, comment="Passed the go-live gate; low risk, no review needed.")
        return app
    app.send_to_review(by=actor)
    now = timezone.now()
    review = Review.objects.create(
        app=app,
        requested_by=actor if actor is not None and actor.is_authenticated else None,
        requested_at=now,
        due_at=now + timedelta(hours=settings.APPKEEPER_REVIEW_HOURS),
    )
    notify_platform_team(
        kind="review_requested",
        subject=f"Review requested: {app.name}",
        body=(
            f"{app.name} ({', '.join(app.risk_reasons)}) waits for a platform review, "
            f"due {review.due_at:%Y-%m-%d %H:%M} UTC."
        ),
        dedupe_key=f"review:{review.pk}:requested",
        app=app,
        link=reverse("review-detail", args=[review.pk]),
    )
    return app


@transaction.atomic
def review_decide(
    *,
    review: Review,
    actor: AnyUser,
    decision: str,
    comment: str = "",
    override_reason: str = "",
) -> Review:
    """Record a platform decision on an open review and move the app accordingly.

    1. Only the platform team decides, never on an app the reviewer answers for.
    2. ``changes_requested`` and ``rejected`` need a comment: the owner must learn why.
    3. Claim the review with a conditional UPDATE: of two concurrent deciders exactly one
       changes the row; the other gets ReviewAlreadyDecided (409).
    4. approved -> app active; changes_requested -> draft; rejected -> retired with the
       comment as reason. Each transition writes its AuditEvent; the owners are notified.
    5. Approving while the app's own go-live checklist has failing items needs an
       ``override_reason``; the failing items and the reason go into the activation's
       AuditEvent, so going live past the gate is a recorded, deliberate choice.
    """
    app = review.app
    # The views check first; checked again here so that no caller can skip it.
    permissions.require("decide_review", actor, app)
    comment = (comment or "").strip()
    if decision not in ReviewDecision.values:
        raise ValidationError({"decision": f"Choose one of: {', '.join(ReviewDecision.values)}."})
    if decision != ReviewDecision.APPROVED and not comment:
        raise ValidationError({"comment": "Tell the owner what to change or why it is rejected."})
    if len(comment) > FREE_TEXT_MAX:
        raise ValidationError({"comment": f"Keep the comment under {FREE_TEXT_MAX} characters."})
    override_reason = (override_reason or "").strip()
    if len(override_reason) > FREE_TEXT_MAX:
        raise ValidationError(
            {"override_reason": f"Keep the reason under {FREE_TEXT_MAX} characters."}
        )
    failing: list[gate.Check] = []
    if decision == ReviewDecision.APPROVED:
        failing = gate.check(app).missing
        if failing and not override_reason:
            if not Review.objects.filter(pk=review.pk, decision="").exists():
                # A decided review answers "already decided", not a checklist complaint.
                raise ReviewAlreadyDecided(
                    "This review has already been decided.", code="already_decided"
                )
            labels = "; ".join(c.label for c in failing)
            raise ValidationError(
                {
                    "override_reason": (
                        f"The go-live checklist is not met ({labels}). "
                        "Say why the app may go live anyway."
                    )
                }
            )
    now = timezone.now()
    claimed = Review.objects.filter(pk=review.pk, decision="").update(
        decision=decision, reviewer=actor, comment=comment, decided_at=now
    )
    if not claimed:
        raise ReviewAlreadyDecided("This review has already been decided.", code="already_decided")
    review.refresh_from_db()
    app = (
        MicroApp.objects.select_for_update(of=("self",))
        .select_related("team", "owner")
        .get(pk=app.pk)
    )
    if decision == ReviewDecision.APPROVED:
        override = (
            {"override_reason": override_reason, "failing_checks": [c.key for c in failing]}
            if failing
            else None
        )
        app.activate(by=actor, comment=f"Review approved. {comment}".strip(), data=override)
        subject, body = f"{app.name} is approved and live", comment or "Approved."
    elif decision == ReviewDecision.CHANGES_REQUESTED:
        app.return_to_draft(by=actor, comment=comment)
        subject, body = f"Changes requested for {app.name}", comment
    else:
        app.retire(by=actor, reason=comment)
        # A rejected app never went live, so apps calling it already are told at once
        # rather than asked about: the review board's answer is final.
        retirement.tell_dependents_of_retirement(app, retirement.live_dependents(app))
        subject, body = f"{app.name} was rejected", comment
    notify_owners(
        app=app,
        kind=f"review_{decision}",
        subject=subject,
        body=body,
        dedupe_key=f"review:{review.pk}:decided",
        link=app.get_absolute_url(),
    )
    return review


def reviews_escalate_overdue(*, now: datetime | None = None) -> int:
    """Escalate each overdue open review to the platform team exactly once.

    A fixed number of queries whatever the number of overdue reviews, in one transaction:

    1. Lock the open, unescalated reviews past their due time (``SKIP LOCKED``: a second
       worker racing this one gets none of them; a later run finds them escalated).
    2. Mark them escalated in one UPDATE.
    3. Notify the platform team (deduplicated outbox rows, one INSERT) and write an
       AuditEvent per review (one INSERT) so each app's timeline shows the escalation.
    Returns how many reviews this run escalated.
    """
    now = now or timezone.now()
    with transaction.atomic():
        # An app retired while waiting has nothing left to review; leave its review alone.
        reviews = list(
            Review.objects.overdue(now)
            .filter(escalated_at__isnull=True, app__state=AppState.IN_REVIEW)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("app")
            .order_by("due_at", "pk")
        )
        if not reviews:
            return 0
        Review.objects.filter(pk__in=[r.pk for r in reviews]).update(escalated_at=now)
        members = platform_team()
        notes = []
        for review in reviews:
            hours = int((now - review.due_at).total_seconds() // 3600)
            notes += platform_team_notifications(
                members=members,
                kind="review_overdue",
                subject=f"Overdue review: {review.app.name}",
                body=(
                    f"The review of {review.app.name} was due {review.due_at:%Y-%m-%d %H:%M} "
                    f"UTC ({hours} h ago) and nobody has decided it."
                ),
                dedupe_key=f"review:{review.pk}:escalated",
                app=review.app,
                link=reverse("review-detail", args=[review.pk]),
            )
        queue(notes)
        AuditEvent.objects.bulk_create(
            AuditEvent.build(
                app=review.app,
                actor=None,
                action="review_escalated",
                comment=f"Review overdue since {review.due_at:%Y-%m-%d %H:%M} UTC.",
                data={"review": review.pk},
            )
            for review in reviews
        )
    return len(reviews)


def team_set_lead(*, team: Team, lead: SignedInUser | None, actor: Actor) -> Team:
    """Name ``lead`` (an active person) the lead of ``team``, or clear it with None: the team
    page and the API write the lead through here. The change and its audit event (no app:
    ``team_lead_changed`` with the team's slug and the usernames before and after) are
    written together or not at all; naming the current lead again writes nothing."""
    if lead is not None and not lead.is_active:
        raise ValidationError({"lead": f"{lead.get_username()} is deactivated."})
    with transaction.atomic():
        # of=self: PostgreSQL cannot lock the nullable side of the join to the lead.
        locked = Team.objects.select_for_update(of=("self",)).select_related("lead").get(pk=team.pk)
        before = locked.lead.get_username() if locked.lead is not None else None
        after = lead.get_username() if lead is not None else None
        if before != after:
            locked.lead = lead
            locked.save(update_fields=["lead", "updated_at"])
            AuditEvent.record(
                app=None,
                actor=actor,
                action="team_lead_changed",
                data={"team": locked.slug, "before": before, "after": after},
            )
    team.lead = lead
    return team
