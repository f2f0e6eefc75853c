"""Which apps the daily low-usage review picks: never one past its expiry, and only on
the 90 complete days of usage before today."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.utils import timezone

from catalog.choices import AppState
from lifecycle import services
from lifecycle.models import SunsetCase, UsageReport
from tests.lifecycle.conftest import live_app

pytestmark = pytest.mark.django_db


def test_an_app_past_its_expiry_is_never_a_low_usage_candidate(alice, support_tools, regions):
    now = timezone.now()
    # Live for 200 days, no usage, expired five minutes ago; the expiry job has not run yet,
    # and does not run for two days.
    app = live_app(
        team=support_tools, owner=alice, now=now, went_live_days_ago=200, days_left=-5 / 1440
    )
    for day in range(3):
        assert services.sunset_cases_open(now=now + timedelta(days=day)) == 0
    assert not SunsetCase.objects.exists()
    assert services.apps_expire(now=now + timedelta(days=2)).expired == 1
    app.refresh_from_db()
    assert app.state == AppState.EXPIRED


def test_the_low_usage_window_is_the_90_complete_days_before_today(
    alice, support_tools, regions, settings
):
    settings.APPKEEPER_SUNSET_MIN_REQUESTS = 100
    now = datetime(2026, 6, 10, 12, 0, tzinfo=UTC)
    today = now.date()
    counted = live_app(team=support_tools, owner=alice, now=now, went_live_days_ago=200)
    partial = live_app(team=support_tools, owner=alice, now=now, went_live_days_ago=200)
    eu = regions["eu-central"]
    # The 90th day back counts; today, still going, does not.
    UsageReport.objects.create(
        app=counted, region=eu, date=today - timedelta(days=90), requests=100
    )
    UsageReport.objects.create(app=counted, region=eu, date=today - timedelta(days=91), requests=5)
    UsageReport.objects.create(app=partial, region=eu, date=today, requests=100)
    with time_machine.travel(now, tick=False):
        assert services.sunset_cases_open(now=now) == 1
    case = SunsetCase.objects.get()
    assert case.app_id == partial.pk and case.figures["requests"] == 0
