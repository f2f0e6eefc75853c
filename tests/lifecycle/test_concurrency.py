"""Every beat job run twice in a row, and on two workers at once, does its work once.

The concurrent tests need PostgreSQL (row locks, SKIP LOCKED, real parallel
transactions): run them with
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper_lifecycle``. On SQLite they
skip with that reason, except under ``CI=true`` where a skip would hide a gap: they fail.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.utils import timezone

from catalog import notifications
from catalog.choices import AppState
from catalog.models import Notification
from catalog.tasks import send_notifications
from lifecycle import services, tasks
from lifecycle.choices import SunsetReason
from lifecycle.models import Reminder, Renewal, SunsetCase, TelemetryDelivery, UsageReport
from tests.conftest import require_postgres as shared_require_postgres
from tests.lifecycle.conftest import body_of, live_app, report, sign

WHY = "Still routes every support ticket we get."


def require_postgres() -> None:
    if connection.vendor == "postgresql":
        return
    reason = (
        "needs PostgreSQL for concurrent transactions: set "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/appkeeper_lifecycle"
    )
    shared_require_postgres(reason)


def twice_at_once(fn, workers: int = 2) -> list:
    """Run ``fn`` on ``workers`` threads released together; each has its own connection."""
    barrier = threading.Barrier(workers)
    results: list = [None] * workers
    errors: list = []

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = fn()
        except Exception as exc:  # collected and re-raised in the test thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return [results, errors]


def fleet(support_tools, alice, regions):
    """Apps in every situation the daily jobs act on."""
    now = timezone.now()
    reminded = [live_app(team=support_tools, owner=alice, days_left=d) for d in (20, 10, 5, 0.5)]
    expiring = live_app(team=support_tools, owner=alice, days_left=-0.1)
    overdue = live_app(team=support_tools, owner=alice, days_left=-0.1, criticality="critical")
    graced = live_app(team=support_tools, owner=alice, days_left=-31, state=AppState.EXPIRED)
    quiet = live_app(team=support_tools, owner=alice, went_live_days_ago=200, days_left=60)
    UsageReport.objects.create(app=quiet, region=regions["eu-central"], date=now.date(), requests=1)
    closing = live_app(team=support_tools, owner=alice, state=AppState.SUNSETTING)
    SunsetCase.objects.create(
        app=closing, reason=SunsetReason.LOW_USAGE, grace_ends_at=now - timedelta(hours=1)
    )
    for app in reminded:  # keep them busy so only reminders concern them
        UsageReport.objects.create(
            app=app, region=regions["eu-central"], date=now.date(), requests=10_000
        )
    return {
        "reminded": reminded,
        "expiring": expiring,
        "overdue": overdue,
        "graced": graced,
        "quiet": quiet,
        "closing": closing,
    }


def assert_done_once(apps, *, platform_members) -> None:
    assert Reminder.objects.filter(superseded=False).count() == 4
    # Every reminder whose time has come is recorded once: sent, or superseded by the more
    # urgent reminder (apps first seen 10, 5 and 0.5 days out) or by the notice of an app
    # that came due unreminded.
    superseded = [Reminder.objects.filter(superseded=True, app=a).count() for a in apps["reminded"]]
    assert superseded == [0, 1, 2, 3]
    for key in ("expiring", "overdue"):
        assert Reminder.objects.filter(superseded=True, app=apps[key]).count() == 4
    assert Reminder.objects.values("app", "expires_at", "days_before").distinct().count() == 18
    states = {k: type(v).objects.get(pk=v.pk).state for k, v in apps.items() if k != "reminded"}
    assert states == {
        "expiring": AppState.EXPIRED,
        "overdue": AppState.ACTIVE,
        "graced": AppState.SUNSETTING,
        "quiet": AppState.SUNSETTING,
        "closing": AppState.RETIRED,
    }
    assert SunsetCase.objects.filter(app=apps["graced"], reason="expired").count() == 1
    assert SunsetCase.objects.filter(app=apps["quiet"], reason="low_usage").count() == 1
    keys = list(Notification.objects.values_list("dedupe_key", flat=True))
    assert len(keys) == len(set(keys))
    overdue = Notification.objects.filter(kind="recertification_overdue")
    assert {(n.recipient_id, n.team_id) for n in overdue} == {
        (apps["overdue"].owner_id, None),
        (None, apps["overdue"].team_id),
        *((user.pk, None) for user in platform_members),
    }


# What each job does to the fleet, once; a second or concurrent run adds nothing to it.
WORK = {
    "lifecycle.send_expiry_reminders": 4,
    "lifecycle.expire_apps": {"expired": 1, "sunsetting": 1, "recertification_overdue": 1},
    "lifecycle.open_sunset_cases": 1,
    "lifecycle.close_sunset_cases": 1,
}


def added(results: list) -> object:
    """The runs' reports summed: what they say they did together."""
    if isinstance(results[0], dict):
        return {k: sum(r[k] for r in results) for k in results[0]}
    return sum(results)


DAILY = [
    tasks.send_expiry_reminders,
    tasks.expire_apps,
    tasks.open_sunset_cases,
    tasks.close_sunset_cases,
]


@pytest.mark.django_db
def test_each_beat_task_twice_in_a_row_does_its_work_once(support_tools, alice, regions, pat):
    apps = fleet(support_tools, alice, regions)
    for task in DAILY:
        first = task.apply().get()
        second = task.apply().get()
        # Each run reports what it did: the second did nothing.
        assert first == WORK[task.name], task.name
        assert added([first, second]) == first, (task.name, first, second)
    assert_done_once(apps, platform_members=[pat])
    send_notifications.apply()
    sent = len(mail.outbox)
    send_notifications.apply()
    assert len(mail.outbox) == sent == Notification.objects.filter(sent_at__isnull=False).count()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("task", DAILY, ids=lambda t: t.name)
def test_each_daily_task_on_two_workers_at_once_does_its_work_once(
    task, support_tools, alice, regions, pat
):
    require_postgres()
    apps = fleet(support_tools, alice, regions)
    # Earlier jobs of the morning have run, so this one finds its rows.
    for earlier in DAILY[: DAILY.index(task)]:
        earlier.apply()
    before = Notification.objects.count()
    results, errors = twice_at_once(lambda: task.apply().get())
    assert errors == []
    # Both workers report only their own share: together, the work done once.
    assert added(results) == WORK[task.name], results
    for later in DAILY[DAILY.index(task) + 1 :]:
        later.apply()
    assert_done_once(apps, platform_members=[pat])
    assert Notification.objects.count() > before


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_drainers_never_send_the_same_notification(support_tools, alice):
    require_postgres()
    app = live_app(team=support_tools, owner=alice)
    for i in range(120):
        notifications.notify(
            recipient=alice, app=app, kind="x", subject=f"n{i}", body="b", dedupe_key=f"c:{i}"
        )
    _, errors = twice_at_once(lambda: send_notifications.apply().get(), workers=3)
    assert errors == []
    subjects = [m.subject for m in mail.outbox]
    assert len(subjects) == 120 == len(set(subjects))
    assert Notification.objects.filter(sent_at__isnull=True).count() == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_renewals_extend_once(support_tools, alice, bob):
    require_postgres()
    app = live_app(team=support_tools, owner=alice, days_left=5)
    before = app.expires_at

    def renew():
        actor = alice if threading.current_thread().name.endswith("1") else bob
        try:
            return services.app_renew(app=app, actor=actor, justification=WHY)
        except services.RenewalNotAllowed:
            return "refused"

    results, errors = twice_at_once(renew)
    assert errors == []
    assert sorted(map(str, results)).count("refused") == 1
    app.refresh_from_db()
    assert app.expires_at == before + timedelta(days=90)
    assert Renewal.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_concurrent_identical_deliveries_are_stored_once(app):
    require_postgres()
    body = body_of(reports=[report()])
    headers = sign(body, msg_id="twin")

    def deliver():
        response = Client().post(
            "/api/v1/telemetry/", data=body, content_type="application/json", **headers
        )
        return response.status_code, response.json()

    results, errors = twice_at_once(deliver)
    assert errors == []
    assert results[0] == results[1] and results[0][0] == 202
    assert TelemetryDelivery.objects.count() == 1
    assert UsageReport.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_deliveries_of_the_same_days_in_opposite_orders_never_deadlock(app):
    """Two senders push the same days, listed in opposite orders, at once: both lock the
    same rollup rows, in key order whatever the body's order, so neither is refused."""
    require_postgres()
    today = timezone.now().date()
    reports = [report(today - timedelta(days=i)) for i in range(300)]
    for attempt in range(5):
        orders = iter(enumerate([reports, reports[::-1]]))
        lock = threading.Lock()

        def deliver(attempt=attempt, orders=orders, lock=lock):
            with lock:
                index, ordered = next(orders)
            body = body_of(reports=ordered)
            response = Client().post(
                "/api/v1/telemetry/",
                data=body,
                content_type="application/json",
                **sign(body, msg_id=f"{attempt}-{index}"),
            )
            return response.status_code

        results, errors = twice_at_once(deliver)
        assert errors == [] and results == [202, 202], (attempt, results, errors)
    assert UsageReport.objects.count() == len(reports)
    assert TelemetryDelivery.objects.count() == 10
