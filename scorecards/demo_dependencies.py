"""The demo's dependency story: who calls whom and how, what telemetry saw them call, a
provider moving to a new major, a breaking version scheduled with its notices, and an
unanswered sunset case escalated because live apps call the app. Everything goes through
the real services, so the pages show what the product would have done."""

from __future__ import annotations

import json
from datetime import date, timedelta

from django.conf import settings
from django.core.management.base import CommandError

from catalog.breaking_services import contract_acknowledge
from catalog.choices import AppState
from catalog.contract_services import contract_upload
from catalog.models import AuditEvent, MicroApp, Notification
from catalog.notifications import platform_team, queue
from catalog.retirement import live_dependents_by_provider
from lifecycle.models import ObservedCall, SunsetCase, UsageReport
from lifecycle.services.common import when
from lifecycle.services.dependents import dependent_sunset_notices
from lifecycle.services.sunset import sunset_cases_close
from scorecards.demo import delivered, demo_spec

# Who calls whom: (dependent, provider, operations used, version range). The operations
# are those of the provider's demo contract (``scorecards.demo.demo_spec``, and the versions in
# ``contract_story``), so the blast radius and the breaking-change notices name real ones.
DEPENDENCIES = [
    ("ticket-router", "crm-sync", ["GET /crm-sync/items"], "^1"),
    ("refund-helper", "crm-sync", ["GET /crm-sync/items"], "1.x"),
    ("escalation-pager", "ticket-router", ["GET /ticket-router/items"], "^1"),
    ("churn-alert", "crm-sync", [], ""),
    # Parts Lookup moved to 2.0.0: Quote Builder stays pinned behind, Visit Logger follows.
    ("quote-builder", "parts-lookup", ["GET /parts-lookup/items"], "^1"),
    ("visit-logger", "parts-lookup", ["GET /parts-lookup/parts/{id}"], "^2"),
    # Live apps calling Escalation Pager keep its unanswered sunset case from retiring it.
    ("sla-monitor", "escalation-pager", ["GET /escalation-pager/items"], ">=1.0,<2"),
    ("slack-digest", "escalation-pager", [], ""),
]
# The calls the demo apps' telemetry reports, as a share of the caller's daily requests:
# mostly what they declare, plus an undeclared call (ticket-router → sla-monitor) and an
# app that calls another than the one it declares (refund-helper), for the Observed calls
# panel, the cleanup report and the policy warning to show.
OBSERVED_CALLS = [
    ("ticket-router", "crm-sync", 0.6),
    ("ticket-router", "sla-monitor", 0.05),
    ("quote-builder", "parts-lookup", 0.8),
    ("refund-helper", "route-optimizer", 0.3),
]


def observed_calls(start: date) -> int:
    """The calls each caller reported, derived from its usage rows (so a rerun makes
    the same rows and keeps the ones there) for callees that take calls."""
    slugs = {slug for call in OBSERVED_CALLS for slug in call[:2]}
    apps = {
        a.slug: a
        for a in MicroApp.objects.filter(slug__in=slugs).exclude(
            state__in=(AppState.DRAFT, AppState.RETIRED)
        )
    }
    rows = []
    for caller, callee, share in OBSERVED_CALLS:
        if caller not in apps or callee not in apps:
            continue
        usage = UsageReport.objects.filter(app=apps[caller], date__gte=start)
        for region_id, day, requests, errors in usage.values_list(
            "region_id", "date", "requests", "errors"
        ):
            rows.append(
                ObservedCall(
                    caller=apps[caller],
                    callee=apps[callee],
                    region_id=region_id,
                    date=day,
                    requests=int(requests * share),
                    errors=int(errors * share),
                )
            )
    ObservedCall.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    return len(rows)


def escalations(created, now) -> int:
    """Run the closing job when each new case's grace period ended, as the hourly job
    did: an unanswered case of an app live apps call is escalated to the platform team
    (its ``escalated_at``, audit event and notices), any other would be retired. What
    the job writes is dated when it ran, and its notices delivered then; the platform
    team's stays unread, as the decision is still theirs. Before, when the case
    opened, the callers' owners were told (the notice ``open_cases_for`` sends)."""
    due = SunsetCase.objects.open().filter(
        app__in=[app for app, _s, _t in created],
        grace_ends_at__lte=now,
        response="",
        escalated_at__isnull=True,
    )
    escalated = 0
    for case in due.select_related("app", "app__owner", "app__team").order_by("pk"):
        app = case.app
        dependents = live_dependents_by_provider([app.pk]).get(app.pk, [])
        why = (
            f"{app.name} expired on {when(app.expires_at)} and was not renewed within "
            f"the {settings.APPKEEPER_GRACE_DAYS}-day grace period. Renewing it now "
            "brings it back."
        )
        opening = dependent_sunset_notices(
            provider=app,
            dependents=dependents,
            grace_end=case.grace_ends_at,
            why=f"A {case.get_reason_display().lower()} sunset case was opened for "
            f"{app.name}. {why}",
            dedupe_key=f"sunset:{app.pk}:{case.reason}:{case.opened_at:%Y%m%d}:dependents",
        )
        queue(delivered(opening, case.opened_at, unread=False))
        ran = case.grace_ends_at + timedelta(minutes=30)
        if sunset_cases_close(now=ran):
            raise CommandError(f"{app.slug} was retired: no live app calls it any more.")
        AuditEvent.objects.filter(app=app, action="sunset_escalated").update(at=ran)
        deciders = {member.pk for member in platform_team()}
        for note in Notification.objects.filter(
            dedupe_key__startswith=f"sunset-case:{case.pk}:escalated"
        ):
            # The owner's copy only informs; the platform team's asks for a decision.
            delivered([note], ran, unread=note.recipient_id in deciders)
            note.save(update_fields=["created_at", "sent_at", "attempts", "read_at"])
        escalated += 1
    return escalated


def contract_story(created: dict[str, MicroApp], users, now) -> int:
    """Later contract versions, through the upload service and its rules, for apps
    created by this run: Parts Lookup's additive 2.0.0 (a new major Quote Builder is
    pinned behind), and CRM Sync's breaking 2.0.0, scheduled with the notice the rule
    asks for, which Ticket Router's owner has acknowledged and Refund Helper's not
    yet. Its notices to the dependents' owners are delivered; the unacknowledged one
    stays unread."""
    uploaded = 0
    parts = created.get("parts-lookup")
    if parts is not None:
        document = demo_spec(parts)
        document["info"]["version"] = "2.0.0"
        document["paths"]["/parts-lookup/parts/{id}"] = {
            "get": {
                "operationId": "getPart",
                "parameters": [
                    {"name": "id", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "The part"}},
            }
        }
        contract_upload(app=parts, actor=parts.owner, content=json.dumps(document), version="2.0.0")
        uploaded += 1
    crm = created.get("crm-sync")
    if crm is not None:
        document = demo_spec(crm)
        document["info"]["version"] = "2.0.0"
        # The list moves to /records: a removed operation the dependents call.
        document["paths"] = {"/crm-sync/records": document["paths"].pop("/crm-sync/items")}
        effective_at = now + timedelta(days=settings.APPKEEPER_BREAKING_NOTICE_DAYS + 1)
        contract, _ = contract_upload(
            app=crm,
            actor=crm.owner,
            content=json.dumps(document),
            version="2.0.0",
            effective_at=effective_at,
        )
        uploaded += 1
        router = MicroApp.objects.get(slug="ticket-router")
        contract_acknowledge(
            contract=contract,
            dependent=router,
            actor=users["alice"],
            comment="Ticket Router moves to /crm-sync/records in its next release.",
        )
        for note in Notification.objects.filter(
            kind="contract_breaking", dedupe_key__startswith=f"contract-breaking:{contract.pk}:"
        ):
            delivered([note], now, unread=note.app_id != router.pk)
            note.save(update_fields=["created_at", "sent_at", "attempts", "read_at"])
    return uploaded
