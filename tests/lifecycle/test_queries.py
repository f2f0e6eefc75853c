"""Every job and panel runs a fixed number of queries, whatever the size of the fleet."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import RequestFactory
from django.utils import timezone

from catalog import notifications
from catalog.choices import AppState
from catalog.models import Notification
from lifecycle import panels, services
from lifecycle.choices import SunsetReason
from lifecycle.models import Renewal, SunsetCase, UsageReport
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db
SIZES = [3, 25]


def fleet(n, team, owner, **kwargs):
    return [live_app(team=team, owner=owner, **kwargs) for _ in range(n)]


@pytest.mark.parametrize("size", SIZES)
def test_send_expiry_reminders_queries(size, support_tools, alice, django_assert_max_num_queries):
    fleet(size, support_tools, alice, days_left=10)
    with django_assert_max_num_queries(7):
        assert services.reminders_send() == size


@pytest.mark.parametrize("size", SIZES)
def test_expire_apps_queries(size, support_tools, alice, django_assert_max_num_queries):
    now = timezone.now()
    fleet(size, support_tools, alice, days_left=-1)
    fleet(size, support_tools, alice, days_left=-40, state=AppState.EXPIRED)
    fleet(size, support_tools, alice, days_left=-1, criticality="critical")
    # Three steps, each one transaction over locked rows; the third reads the notices
    # already queued and the platform team, and records reminders an outage superseded.
    # Opening the sunset cases asks once which of the apps live apps call. Each step that
    # queues notices reads its recipients' preferences once (messaging.routing).
    with django_assert_max_num_queries(27):
        result = services.apps_expire(now=now)
    assert (result.expired, result.sunsetting, result.recertification_overdue) == (size,) * 3


@pytest.mark.parametrize("size", SIZES)
def test_open_sunset_cases_queries(
    size, support_tools, alice, regions, django_assert_max_num_queries
):
    apps = fleet(size, support_tools, alice, went_live_days_ago=120, days_left=50)
    UsageReport.objects.bulk_create(
        UsageReport(app=a, region=regions["eu-central"], date=timezone.now().date(), requests=5)
        for a in apps
    )
    with django_assert_max_num_queries(10):
        assert services.sunset_cases_open() == size


@pytest.mark.parametrize("size", SIZES)
def test_close_sunset_cases_queries(size, support_tools, alice, django_assert_max_num_queries):
    past = timezone.now() - timedelta(days=1)
    for app in fleet(size, support_tools, alice, state=AppState.SUNSETTING):
        SunsetCase.objects.create(app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=past)
    with django_assert_max_num_queries(9):
        assert services.sunset_cases_close() == size


@pytest.mark.parametrize("size", SIZES)
def test_send_notifications_queries(size, support_tools, alice, django_assert_max_num_queries):
    for app in fleet(size, support_tools, alice):
        notifications.notify(
            recipient=alice, app=app, kind="x", subject="s", body="b", dedupe_key=f"q:{app.pk}"
        )
    # The claim (a SELECT and the lease, in a savepoint here), then 2 queries per row: its
    # attempt and its outcome are committed one row at a time, so that a worker dying
    # mid-batch repeats at most the message in flight.
    with django_assert_max_num_queries(4 + 2 * size):
        assert notifications.send_pending().sent == size
    assert not Notification.objects.filter(sent_at__isnull=True).exists()


def test_send_notifications_queries_are_bounded_by_the_batch(
    support_tools, alice, django_assert_max_num_queries
):
    for app in fleet(12, support_tools, alice):
        notifications.notify(
            recipient=alice, app=app, kind="x", subject="s", body="b", dedupe_key=f"b:{app.pk}"
        )
    with django_assert_max_num_queries(4 + 2 * 5):
        assert notifications.send_pending(limit=5).sent == 5
    assert Notification.objects.filter(sent_at__isnull=True).count() == 7


@pytest.mark.parametrize("size", SIZES)
def test_app_panel_queries(size, support_tools, alice, regions, django_assert_max_num_queries):
    app = live_app(team=support_tools, owner=alice, days_left=10, state=AppState.SUNSETTING)
    today = timezone.now().date()
    UsageReport.objects.bulk_create(
        UsageReport(app=app, region=r, date=today - timedelta(days=d), requests=d)
        for d in range(size)
        for r in regions.values()
    )
    for i in range(size):
        Renewal.objects.create(
            app=app,
            renewed_by=alice,
            justification="x" * 20,
            previous_state="active",
            expires_at=timezone.now(),
        )
        SunsetCase.objects.create(
            app=app,
            reason=SunsetReason.EXPIRED,
            grace_ends_at=timezone.now(),
            closed_at=timezone.now() if i else None,
        )
    request = RequestFactory().get("/")
    request.user = alice
    # One more while a case is open: the apps that call this one.
    with django_assert_max_num_queries(6):
        context = panels.app_panel_context(request, app)
    assert context["open_case"] is not None
    assert context["usage"]["reporting_days"] == size


@pytest.mark.parametrize("size", SIZES)
def test_dashboard_panels_queries(size, support_tools, alice, django_assert_max_num_queries):
    for app in fleet(size, support_tools, alice, days_left=5):
        notifications.notify(
            recipient=alice, app=app, kind="x", subject="s", body="b", dedupe_key=f"d:{app.pk}"
        )
    request = RequestFactory().get("/")
    request.user = alice
    with django_assert_max_num_queries(6):
        bell = panels.notifications_panel_context(request)
        todo = panels.todo_panel_context(request)
    assert bell["unread_count"] == size and len(todo["due"]) == min(size, 20)
