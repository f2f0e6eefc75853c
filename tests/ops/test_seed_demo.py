"""seed_demo builds a small fleet in every state, with usage, and is idempotent."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.db.models import F

from catalog.choices import AppState
from catalog.models import MicroApp
from lifecycle.models import UsageReport

pytestmark = pytest.mark.django_db


def test_seed_demo_creates_every_state_with_usage_and_reruns_safely():
    call_command("seed_demo", apps=60, days=3, stdout=io.StringIO())
    seeded = MicroApp.objects.filter(slug__startswith="seed-")
    assert seeded.count() == 60
    assert set(seeded.values_list("state", flat=True)) == set(AppState.values)
    assert UsageReport.objects.filter(app__slug__startswith="seed-").exists()
    # Registered before going live, so past quarters' scorecards have the fleet to score.
    live = seeded.filter(went_live_at__isnull=False)
    assert live.exists()
    assert not live.filter(created_at__gte=F("went_live_at")).exists()
    out = io.StringIO()
    call_command("seed_demo", apps=60, days=3, stdout=out)
    assert "Already seeded" in out.getvalue()
    call_command("seed_demo", apps=20, days=1, reset=True, stdout=io.StringIO())
    assert MicroApp.objects.filter(slug__startswith="seed-").count() == 20
