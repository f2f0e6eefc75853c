"""The demo data tells one coherent story: every product rule holds on what ``load_demo``
loads, each demo user's dashboard has its part of the story, and a rerun adds nothing.

The strongest check is the product's own: the daily jobs, run right after loading, find
nothing to do — every reminder due was sent, nothing is past its expiry or grace period,
no active app has low usage, every overdue review was escalated.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.db.models import Count, Q, Sum
from django.utils import timezone

from catalog import permissions
from catalog import selectors as selectors_catalog
from catalog.choices import AppState, Criticality, ReviewDecision
from catalog.models import (
    AuditEvent,
    Contract,
    ContractAcknowledgement,
    Dependency,
    MicroApp,
    Notification,
    Review,
)
from catalog.services import reviews_escalate_overdue
from lifecycle import selectors, services
from lifecycle.choices import SunsetOutcome, SunsetReason
from lifecycle.models import Reminder, Renewal, SunsetCase, UsageReport
from lifecycle.panels import todo_panel_context
from scorecards.chargeback import monthly_cost_by_team, scope_for
from scorecards.periods import current_quarter, previous_quarter

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)
GONE = (AppState.EXPIRED, AppState.SUNSETTING, AppState.RETIRED)


def load() -> None:
    call_command("load_demo", stdout=io.StringIO())


def user(name: str):
    return get_user_model().objects.get(username=name)


def period(app: MicroApp) -> timedelta:
    critical = app.criticality == Criticality.CRITICAL
    return timedelta(
        days=settings.APPKEEPER_RECERTIFY_DAYS if critical else settings.APPKEEPER_EXPIRY_DAYS
    )


# Today, and the first minutes of a quarter (and of a year, a month and a day), when the
# current quarter has no complete month and "yesterday" is in another year.
DAYS = [None, datetime(2027, 1, 1, 0, 30, tzinfo=UTC)]


@pytest.fixture(params=DAYS, ids=["today", "new-year"])
def on_day(request):
    if request.param is None:
        yield
        return
    with time_machine.travel(request.param, tick=False):
        yield


def test_load_demo_obeys_every_product_rule(on_day):
    load()
    now = timezone.now()
    apps = list(MicroApp.objects.prefetch_related("renewals", "sunset_cases", "reminders"))
    # The fleet's 36, and 2 drafts imported from the demo's Backstage catalog.
    assert len(apps) == 38
    assert sorted(a.slug for a in apps if hasattr(a, "backstage_entity")) == [
        "dispatch-board",
        "mobile-route-planner",
    ]

    # Critical apps do not expire: none is expired, sunsetting or retired.
    assert not [a.slug for a in apps if a.criticality == Criticality.CRITICAL and a.state in GONE]

    # Only high-risk apps are reviewed; every app in review has one open review, which the
    # platform team may decide (pat never reviews an app he answers for).
    pat = user("pat")
    open_reviews = list(Review.objects.filter(decision="").select_related("app"))
    assert sorted(r.app.slug for r in open_reviews) == sorted(
        a.slug for a in apps if a.state == AppState.IN_REVIEW
    )
    for review in open_reviews:
        assert review.app.is_high_risk, review.app.slug
        assert permissions.can_decide_review(pat, review.app)
    assert not Review.objects.exclude(
        Q(app__handles_pii=True)
        | Q(app__handles_payment_data=True)
        | Q(app__externally_exposed=True)
    ).exists()
    for app in apps:
        if app.went_live_at and app.is_high_risk:
            approved = app.reviews.get(decision=ReviewDecision.APPROVED)
            assert approved.decided_at == app.went_live_at and approved.reviewer == pat

    # Telemetry comes with a secret, and only from apps that went live or wait in review.
    reporting = set(UsageReport.objects.values_list("app__slug", flat=True).distinct())
    for app in apps:
        if app.last_seen_at or app.slug in reporting:
            assert app.ingestion_secret.startswith("whsec_"), app.slug
            assert app.state not in (AppState.DRAFT,), app.slug

    # Dates follow states.
    grace = timedelta(days=settings.APPKEEPER_GRACE_DAYS)
    answer = timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
    for app in apps:
        if app.state in (AppState.DRAFT, AppState.IN_REVIEW):
            assert app.went_live_at is None and app.expires_at is None, app.slug
            continue
        renewals = sorted(app.renewals.all(), key=lambda r: r.renewed_at)
        start = app.went_live_at + period(app)
        for renewal in renewals:
            assert renewal.previous_expires_at == start, app.slug
            opens = renewal.previous_expires_at - timedelta(
                days=max(settings.APPKEEPER_REMINDER_DAYS)
            )
            assert opens <= renewal.renewed_at <= renewal.previous_expires_at, app.slug
            start = max(renewal.renewed_at, renewal.previous_expires_at) + period(app)
            assert renewal.expires_at == start
        assert app.expires_at == start, app.slug
        cases = list(app.sunset_cases.all())
        if app.state == AppState.ACTIVE:
            assert app.expires_at > now and not cases, app.slug
        elif app.state == AppState.EXPIRED:
            assert now - grace < app.expires_at <= now and not cases, app.slug
        elif app.state == AppState.SUNSETTING:
            (case,) = cases
            assert case.is_open and case.grace_ends_at == case.opened_at + answer
            if case.reason == SunsetReason.EXPIRED:
                assert case.opened_at == app.expires_at + grace, app.slug
            else:
                since = case.opened_at.date() - timedelta(days=selectors.USAGE_WINDOW_DAYS - 1)
                used = UsageReport.objects.filter(
                    app=app, date__gte=since, date__lte=case.opened_at.date()
                ).aggregate(n=Sum("requests"))["n"]
                assert used == case.figures["requests"] < settings.APPKEEPER_SUNSET_MIN_REQUESTS
                assert app.went_live_at <= case.opened_at - timedelta(days=90)
        else:
            (case,) = cases
            assert case.outcome == SunsetOutcome.RETIRED
            assert case.opened_at == app.expires_at + grace
            assert app.retired_at == case.closed_at == case.grace_ends_at, app.slug
            assert app.last_seen_at <= app.retired_at
            assert not UsageReport.objects.filter(app=app, date__gt=app.retired_at.date()).exists()

    # Reminders: one on each configured day before expiry that has passed, sent that day;
    # the latest is the one the reminder rule says is due now.
    for app in apps:
        if app.expires_at is None or app.state == AppState.RETIRED:
            continue
        sent = {
            r.days_before: r.sent_at for r in app.reminders.all() if r.expires_at == app.expires_at
        }
        due = {d for d in settings.APPKEEPER_REMINDER_DAYS if app.expires_at - d * DAY <= now}
        if app.state == AppState.SUNSETTING and app.expires_at > now:
            due = set()  # low usage: sunset within its period, no reminder yet
        assert set(sent) == due, app.slug
        assert all(at == app.expires_at - d * DAY for d, at in sent.items())
        if app.state == AppState.ACTIVE and due:
            assert min(due) == services.reminder_due(app.expires_at, now), app.slug
    for note in Notification.objects.filter(kind="expiry_reminder", read_at__isnull=True):
        reminder = Reminder.objects.get(
            app=note.app, sent_at=note.created_at, days_before__in=settings.APPKEEPER_REMINDER_DAYS
        )
        # Worded from the time left when it was sent, as the hourly job words it.
        left = "in 24 hours" if reminder.days_before == 1 else f"in {reminder.days_before} days"
        assert note.subject.endswith(left), note.subject

    # Unread is what still needs acting on: the latest reminder of an active app, the
    # expiry of an app still in its grace period, the platform team's decision on an
    # escalated case, a breaking version the dependent has not acknowledged yet.
    unread = Notification.objects.filter(read_at__isnull=True, recipient__isnull=False)
    for note in unread.select_related("app", "recipient"):
        if note.kind == "sunset_escalated":
            assert permissions.can_decide_sunset(note.recipient), note.subject
            assert note.app.sunset_cases.get().escalated_at is not None
            continue
        if note.kind == "contract_breaking":
            assert not note.app.contract_acknowledgements.exists(), note.subject
            continue
        if note.kind == "app_orphaned":  # the platform team still has to assign an owner
            assert note.app.orphaned_at is not None, note.subject
            continue
        expected = AppState.ACTIVE if note.kind == "expiry_reminder" else AppState.EXPIRED
        assert note.app.state == expected, (note.subject, note.app.state)
    expired = {a.slug for a in apps if a.state == AppState.EXPIRED}
    assert set(unread.filter(kind="app_expired").values_list("app__slug", flat=True)) == expired
    assert not Notification.objects.filter(sent_at__isnull=True).exists()  # no old news sent

    # Every app that went live passed the go-live gate (its contract and SLA are there).
    for app in apps:
        if app.state != AppState.DRAFT:
            assert app.has_sla and Contract.objects.filter(app=app, is_valid=True).exists()

    # The daily jobs, run now, find nothing to do.
    before = Notification.objects.count()
    assert services.reminders_send(now=now) == 0
    result = services.apps_expire(now=now)
    assert (result.expired, result.sunsetting, result.recertification_overdue) == (0, 0, 0)
    assert services.sunset_cases_close(now=now) == 0
    assert list(selectors.low_usage_candidates(now=now)) == []
    assert reviews_escalate_overdue(now=now) == 0
    assert Notification.objects.count() == before


def test_each_demo_user_has_a_story_on_their_dashboard(on_day):
    load()
    now = timezone.now()

    # alice: apps to renew this week.
    todo = todo_panel_context(SimpleNamespace(user=user("alice")))
    this_week = [a.slug for a in todo["due"] if a.state == AppState.ACTIVE and a.days_left <= 7]
    assert len(this_week) >= 2, this_week

    # pat: reviews waiting, one overdue, and a contested sunset case to decide.
    waiting = Review.objects.filter(decision="")
    assert waiting.count() >= 3
    assert waiting.filter(due_at__lt=now).count() == 1
    todo = todo_panel_context(SimpleNamespace(user=user("pat")))
    assert [c.app.slug for c in todo["contested"]] == ["escalation-pager", "field-photos"]

    # fin: chargeback over complete months — every team has cost in every month the
    # month-over-month view shows, and the fleet reported every day of those months.
    fin = user("fin")
    first = min(UsageReport.objects.values_list("date", flat=True))
    assert first.day == 1
    # This quarter (whose complete months may be none yet, on its first days) and the
    # last one, whose months are all complete and are compared with the month before.
    for quarter in (current_quarter(), previous_quarter()):
        monthly = monthly_cost_by_team(period=quarter, scope=scope_for(fin))
        assert {t["team"] for t in monthly["teams"]} == {"support-tools", "field-ops", "platform"}
        for team in monthly["teams"]:
            assert all(cost > 0 for cost in team["series"]), (quarter.label, team)
        assert f"{first:%Y-%m}" <= monthly["months"][0]
    assert len(monthly["months"]) == 4 and monthly["compared"]
    days = UsageReport.objects.filter(date__gte=first).aggregate(n=Count("date", distinct=True))
    assert days["n"] == (now.date() - first).days


def test_running_it_twice_duplicates_nothing():
    tables = [
        MicroApp,
        UsageReport,
        Review,
        Renewal,
        Reminder,
        SunsetCase,
        Notification,
        AuditEvent,
        Contract,
        ContractAcknowledgement,
        Dependency,
    ]
    load()
    counts = {model.__name__: model.objects.count() for model in tables}
    load()
    assert {model.__name__: model.objects.count() for model in tables} == counts


def test_the_demo_shows_dependencies_pinned_versions_breaking_changes_and_escalations(on_day):
    load()
    now = timezone.now()

    # Links name operations of the provider's contract and a version range.
    link = Dependency.objects.get(from_microapp__slug="ticket-router", to_microapp__slug="crm-sync")
    assert (link.uses, link.version_range) == (["GET /crm-sync/items"], "^1")
    assert Dependency.objects.exclude(uses=[]).count() >= 5

    # Parts Lookup moved to a new major: Quote Builder is pinned behind, Visit Logger not.
    parts = MicroApp.objects.get(slug="parts-lookup")
    assert selectors_catalog.latest_contract(app=parts).version == "2.0.0"
    pinned = set(
        MicroApp.objects.filter(pk__in=selectors_catalog.apps_pinned_behind()).values_list(
            "slug", flat=True
        )
    )
    assert pinned == {"quote-builder"}

    # CRM Sync scheduled a breaking 2.0.0 with the notice the rule asks for; both live
    # dependents were told, Ticket Router acknowledged.
    scheduled = Contract.objects.get(app__slug="crm-sync", version="2.0.0")
    assert scheduled.breaking and scheduled.is_scheduled
    assert scheduled.effective_at - now >= timedelta(days=settings.APPKEEPER_BREAKING_NOTICE_DAYS)
    assert selectors_catalog.latest_contract(app=scheduled.app).version == "1.0.0"
    told = Notification.objects.filter(kind="contract_breaking").values_list("app__slug", flat=True)
    assert set(told) == {"ticket-router", "refund-helper"}
    (ack,) = ContractAcknowledgement.objects.filter(contract=scheduled)
    assert (ack.dependent.slug, ack.acknowledged_by.username) == ("ticket-router", "alice")

    # Escalation Pager's case went unanswered, but live apps call it: escalated, not retired.
    case = SunsetCase.objects.get(app__slug="escalation-pager")
    assert case.app.state == AppState.SUNSETTING and case.is_open and not case.response
    assert case.grace_ends_at < case.escalated_at < now
    event = AuditEvent.objects.get(app=case.app, action="sunset_escalated")
    assert event.at == case.escalated_at
    assert set(event.data["dependents"]) == {"sla-monitor", "slack-digest"}
    assert Notification.objects.filter(
        kind="sunset_escalated", recipient__username="pat", read_at__isnull=True
    ).exists()
    # When the case opened, the callers' owners were told.
    callers = Notification.objects.filter(kind="dependency_sunset", recipient__isnull=False)
    assert {"alice", "pat"} <= set(callers.values_list("recipient__username", flat=True))


def test_the_demo_shows_co_owners_team_leads_and_a_leaver_handed_over(on_day):
    from catalog.ownership import HANDED_OVER, ORPHANED

    load()

    dave = user("dave")
    assert not dave.is_active and dave.person.deactivated_via == "scim"
    detector = MicroApp.objects.get(slug="language-detector")
    assert detector.owner == user("pat") and detector.orphaned_at is None
    handed = AuditEvent.objects.get(app=detector, action=HANDED_OVER)
    assert handed.changes["owner"] == ["dave", "pat"]
    notes = MicroApp.objects.get(slug="meeting-notes")
    assert notes.owner == dave and notes.orphaned_at is not None
    assert AuditEvent.objects.filter(app=notes, action=ORPHANED).exists()
    assert MicroApp.objects.filter(orphaned_at__isnull=False).count() == 1
    assert MicroApp.objects.get(slug="ticket-router").co_owners.get() == user("bob")
    route = MicroApp.objects.get(slug="route-optimizer")
    assert permissions.can_edit(user("alice"), route)  # a co-owner from another team
    assert route.team.lead == user("carol")
