"""A year of the beat schedule against the README's lifecycle rules, app by app.

Every crontab entry of ``config/celery.py`` runs at its times with the clock frozen
(``tests.lifecycle.beat``): the daily jobs every day, the hourly deadline jobs every hour
around each deadline below and at the daily jobs' hours otherwise, so a job that fired
early or late would do so at a visited hour and show in the times asserted. Every beat
is delivered twice, and the workers are out for four days around one app's expiry. The
quarterly scorecards are scored at their beat and must read the same when a closed quarter
is scored again at the end of the year.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings

from catalog import services as catalog_services
from catalog.choices import AppState
from catalog.models import AuditEvent, Notification, Review
from lifecycle import services
from lifecycle.models import Reminder, SunsetCase, UsageReport
from scorecards import periods
from scorecards import services as scorecard_services
from scorecards.models import Scorecard
from tests.catalog.review_support import pii_app
from tests.factories import MicroAppFactory
from tests.lifecycle.beat import near, run_beat

pytestmark = pytest.mark.django_db
WHY = "Still used by the support team every single day."
YEAR = datetime(2027, 1, 1, 0, 0, tzinfo=UTC)
END = YEAR + timedelta(days=370)  # past the critical app's yearly re-certification
DAY = timedelta(days=1)
T = datetime(2027, 1, 4, 10, 0, tzinfo=UTC)  # most apps go live here
OUTAGE = (datetime(2027, 4, 29, 13, 0, tzinfo=UTC), datetime(2027, 5, 3, 12, 0, tzinfo=UTC))


def down(moment: datetime) -> bool:
    return OUTAGE[0] <= moment < OUTAGE[1]


def beat_after(deadline: datetime, minute: int) -> datetime:
    """The first beat at ``minute`` past an hour, at or after ``deadline``, that the
    workers are up for: when the README says a deadline's job acts."""
    moment = deadline.replace(minute=minute, second=0, microsecond=0)
    if moment < deadline:
        moment += timedelta(hours=1)
    while down(moment):
        moment += timedelta(hours=1)
    return moment


def daily_after(deadline: datetime, hour: int, minute: int) -> datetime:
    moment = deadline.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return moment if moment >= deadline else moment + DAY


def reminders_expected(expires_at: datetime) -> dict[int, tuple[datetime, bool]]:
    """Each reminder at the :00 beat after ``expires_at - N days``; one that fell in the
    outage is superseded by the expiry notice (:10 beat after the outage)."""
    out = {}
    for d in settings.APPKEEPER_REMINDER_DAYS:
        due = beat_after(expires_at - timedelta(days=d), 0)
        if due >= expires_at:
            out[d] = (beat_after(expires_at, 10), True)
        else:
            out[d] = (due, False)
    return out


def reminders_of(app, expires_at: datetime) -> dict[int, tuple[datetime, bool]]:
    rows = Reminder.objects.filter(app=app, expires_at=expires_at)
    return {r.days_before: (r.sent_at, r.superseded) for r in rows}


def moments(app, action: str) -> list[datetime]:
    return list(
        AuditEvent.objects.filter(app=app, action=action)
        .order_by("at")
        .values_list("at", flat=True)
    )


def test_a_year_of_the_beat_keeps_every_timeline_the_readme_promises(
    alice, pat, support_tools, regions
):
    busy: list = []
    apps: dict = {}
    actions: list[tuple[datetime, Callable[[], None]]] = []

    def go_live(name: str, at: datetime, *, usage: bool = False, **fields) -> None:
        with time_machine.travel(YEAR, tick=False):
            apps[name] = MicroAppFactory(
                team=support_tools, owner=alice, state=AppState.DRAFT, name=name, **fields
            )
        if usage:
            busy.append(apps[name])
        actions.append((at, lambda: apps[name].activate(by=alice)))

    def renew(name: str, at: datetime) -> None:
        def act() -> None:
            apps[name].refresh_from_db()
            services.app_renew(app=apps[name], actor=alice, justification=WHY)

        actions.append((at, act))

    def case_of(name: str) -> SunsetCase:
        return SunsetCase.objects.get(app=apps[name], reason="low_usage")

    def respond(name: str, at: datetime, response: str) -> None:
        actions.append(
            (
                at,
                lambda: services.sunset_respond(
                    case=case_of(name), actor=alice, response=response, justification=WHY
                ),
            )
        )

    def decide(name: str, at: datetime, decision: str) -> None:
        actions.append(
            (at, lambda: services.sunset_decide(case=case_of(name), actor=pat, decision=decision))
        )

    # --- the fleet --------------------------------------------------------------------
    go_live("never", T)
    go_live("early", T + timedelta(hours=4), usage=True)
    renew("early", T + timedelta(days=61))  # after the 30-day reminder
    go_live("grace", T - timedelta(hours=1), usage=True)
    renew("grace", T + timedelta(days=100, hours=2))  # suspended since day 90
    go_live("critical", T, usage=True, criticality="critical")
    go_live("critical-quiet", T, criticality="critical")
    for name in ("silent", "accept", "uphold", "retire"):
        go_live(name, T)
        renew(name, T + timedelta(days=61))  # kept renewed, but never used
    low_usage_opened = daily_after(T + timedelta(days=90), 6, 30)
    respond("accept", low_usage_opened + timedelta(days=2, hours=6), "accept")
    for name, decision in (("uphold", "uphold"), ("retire", "retire")):
        respond(name, low_usage_opened + timedelta(days=1), "contest")
        decide(name, low_usage_opened + timedelta(days=20), decision)
    month_end = datetime(2027, 1, 31, 23, 30, tzinfo=UTC)
    go_live("month-end", month_end)  # expires 1 May 23:30, inside the outage
    quarter = datetime(2027, 3, 31, 23, 0, tzinfo=UTC)
    go_live("quarter", quarter)

    submitted = datetime(2027, 2, 1, 9, 0, tzinfo=UTC)
    approved = datetime(2027, 2, 5, 12, 0, tzinfo=UTC)
    with time_machine.travel(YEAR, tick=False):
        apps["reviewed"] = pii_app(team=support_tools, owner=alice, regions=regions)

    def submit() -> None:
        catalog_services.app_submit(app=apps["reviewed"], actor=alice)

    def approve() -> None:
        review = Review.objects.get(app=apps["reviewed"])
        catalog_services.review_decide(review=review, actor=pat, decision="approved")

    actions += [(submitted, submit), (approved, approve)]

    UsageReport.objects.bulk_create(
        UsageReport(
            app=app, region=regions["eu-central"], date=(YEAR + DAY * n).date(), requests=5_000
        )
        for app in busy
        for n in range(-1, 371)
    )

    # --- what the README says, hour by hour ------------------------------------------
    E = T + timedelta(days=90)
    early_expiry = T + timedelta(hours=4) + timedelta(days=180)
    grace_renewed = T + timedelta(days=100, hours=2)
    critical_due = T + timedelta(days=settings.APPKEEPER_RECERTIFY_DAYS)
    uphold_expiry = low_usage_opened + timedelta(days=20) + timedelta(days=90)
    reviewed_expiry = approved + timedelta(days=90)
    watched = [
        E,
        E - timedelta(hours=1),
        E + timedelta(days=30),
        early_expiry,
        early_expiry + timedelta(days=30),
        grace_renewed + timedelta(days=90),
        critical_due,
        uphold_expiry,
        reviewed_expiry,
        submitted + timedelta(hours=48),
        month_end + timedelta(days=90),
        quarter + timedelta(days=90),
        *OUTAGE,
    ]
    for expiry in (E, early_expiry, critical_due, reviewed_expiry, month_end + timedelta(days=90)):
        watched += [expiry - timedelta(days=d) for d in settings.APPKEEPER_REMINDER_DAYS]
    watched += [quarter + timedelta(days=90 - d) for d in settings.APPKEEPER_REMINDER_DAYS]
    watched += [E + timedelta(days=30 + 14), early_expiry + timedelta(days=44)]

    # --- run the year ------------------------------------------------------------------
    moment = YEAR
    for at, act in sorted(actions, key=lambda pair: pair[0]):
        run_beat(moment, at, hours=near(*watched), down=down, twice=True)
        with time_machine.travel(at, tick=False):
            act()
        moment = at
    run_beat(moment, END, hours=near(*watched), down=down, twice=True)

    for app in apps.values():
        app.refresh_from_db()
    state = {name: app.state for name, app in apps.items()}

    # Never renewed: reminders at days 60/76/83/89 at the hour it went live, suspended
    # ten minutes after its expiry, sunset after the 30-day grace, retired 14 days later.
    never = apps["never"]
    assert reminders_of(never, E) == reminders_expected(E)
    assert moments(never, "expired") == [E + timedelta(minutes=10)]
    assert moments(never, "sunset_started") == [E + timedelta(days=30, minutes=10)]
    assert moments(never, "retired") == [E + timedelta(days=44, minutes=20)]

    # Renewed after its first reminder: that period ends there; the next one runs out.
    early = apps["early"]
    first = T + timedelta(hours=4, days=90)
    assert set(reminders_of(early, first)) == {30}
    assert reminders_of(early, early_expiry) == reminders_expected(early_expiry)
    assert moments(early, "expired") == [early_expiry + timedelta(minutes=10)]
    assert moments(early, "retired") == [early_expiry + timedelta(days=44, minutes=20)]

    # Renewed during the grace period: active again for 90 days from the renewal.
    grace = apps["grace"]
    grace_expired = T - timedelta(hours=1) + timedelta(days=90, minutes=10)
    assert moments(grace, "expired")[0] == grace_expired
    assert grace.expires_at == grace_renewed + timedelta(days=90)
    assert moments(grace, "expired")[1] == grace_renewed + timedelta(days=90, minutes=10)

    # Critical and busy: reminded for its re-certification, never suspended; overdue told
    # to the owner, the team contact and the platform team once.
    critical = apps["critical"]
    assert state["critical"] == AppState.ACTIVE
    assert reminders_of(critical, critical_due) == reminders_expected(critical_due)
    overdue = Notification.objects.filter(kind="recertification_overdue", app=critical)
    assert sorted(n.created_at for n in overdue) == [critical_due + timedelta(minutes=10)] * 3
    assert overdue.filter(recipient=pat).count() == 1

    # Critical and quiet: a low-usage case the platform team hears of, never retired
    # although nobody answered for the rest of the year.
    quiet = case_of("critical-quiet")
    assert quiet.opened_at == low_usage_opened and quiet.closed_at is None
    assert state["critical-quiet"] == AppState.SUNSETTING
    assert Notification.objects.filter(kind="sunset_notice", recipient=pat).count() == 1

    # Low usage, kept renewed: a case at the first 06:30 after 90 days live.
    for name in ("silent", "accept", "uphold", "retire"):
        assert case_of(name).opened_at == low_usage_opened, name
    assert moments(apps["silent"], "retired") == [
        beat_after(low_usage_opened + timedelta(days=14), 20)
    ]
    assert moments(apps["accept"], "retired") == [low_usage_opened + timedelta(days=2, hours=6)]
    assert moments(apps["retire"], "retired") == [low_usage_opened + timedelta(days=20)]
    uphold = apps["uphold"]
    assert moments(uphold, "expired") == [beat_after(uphold_expiry, 10)]
    assert SunsetCase.objects.filter(app=uphold, reason="low_usage").count() == 1

    # A late review is escalated at the :05 beat after it fell due; approved, it goes live.
    review = Review.objects.get(app=apps["reviewed"])
    assert review.escalated_at == beat_after(submitted + timedelta(hours=48), 5)
    assert reminders_of(apps["reviewed"], reviewed_expiry) == reminders_expected(reviewed_expiry)

    # Month-end go-live, expiring inside the outage: the last reminder is superseded by
    # the expiry notice at the first beat after the outage, which says so.
    month_end_expiry = month_end + timedelta(days=90)
    expected = reminders_expected(month_end_expiry)
    assert expected[1] == (OUTAGE[1] + timedelta(minutes=10), True)
    assert reminders_of(apps["month-end"], month_end_expiry) == expected
    assert moments(apps["month-end"], "expired") == [OUTAGE[1] + timedelta(minutes=10)]
    notice = Notification.objects.get(kind="app_expired", app=apps["month-end"], recipient=alice)
    assert "The reminder due 1 day before that date could not be sent in time" in notice.body

    # Quarter-boundary go-live: its deadlines at 23:00, reminders at the midnight beat.
    quarter_expiry = quarter + timedelta(days=90)
    assert reminders_of(apps["quarter"], quarter_expiry) == reminders_expected(quarter_expiry)
    assert moments(apps["quarter"], "expired") == [quarter_expiry + timedelta(minutes=10)]

    # Each ended quarter was scored at its beat, and scoring a closed quarter again a year
    # on gives the same rows: a quarter's scorecard is what was true inside it.
    def scored() -> dict:
        return {
            (card.quarter, card.app.slug): (card.overall, card.grade, card.reasons, card.metrics)
            for card in Scorecard.objects.select_related("app")
        }

    at_their_beat = scored()
    assert {quarter for quarter, _ in at_their_beat} == {f"2027-Q{q}" for q in range(1, 5)}
    assert not Scorecard.objects.filter(app=apps["never"], quarter="2027-Q4").exists()
    with time_machine.travel(END, tick=False):
        for q in range(1, 5):
            scorecard_services.scorecards_compute(quarter=periods.parse_quarter(f"2027-Q{q}"))
    assert scored() == at_their_beat

    # Doubled beats and catch-up never sent anything twice.
    keys = list(Notification.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    assert (
        not Notification.objects.filter(sent_at__isnull=True)
        .exclude(created_at__gte=END - timedelta(minutes=5))
        .exists()
    )
