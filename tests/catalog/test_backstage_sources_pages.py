"""The platform team's sources page and API, the ops panel, the gauge, and the retirement
proposal for apps whose entity stayed gone from its source."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.backstage.sources import propose_missing_retirements, sync_finished
from catalog.choices import AppState
from catalog.models import AuditEvent, BackstageEntity, BackstageSource, ImportJob, SyncStatus
from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase
from tests.catalog.backstage_http import catalog_server
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db

PAGE = "/settings/backstage-sources/"
API = "/api/v1/backstage/sources/"


@pytest.fixture
def allowed(settings):
    settings.APPKEEPER_BACKSTAGE_ALLOWED_HOSTS = ["127.0.0.1", ".example.com"]
    settings.APPKEEPER_BACKSTAGE_ALLOW_PRIVATE = True


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_page_is_the_platform_teams(client, alice):
    client.force_login(alice)
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"name": "x"}).status_code == 403


def test_adding_a_source_on_a_host_not_allowed_is_a_field_error(client, pat, allowed):
    client.force_login(pat)
    response = client.post(
        PAGE, {"name": "Main", "url": "https://evil.test/catalog.yaml", "interval_minutes": 60}
    )
    assert response.status_code == 400
    assert "APPKEEPER_BACKSTAGE_ALLOWED_HOSTS" in str(response.context["form"].errors["url"])
    assert not BackstageSource.objects.exists()


def test_a_source_is_added_and_its_token_never_shown_again(client, pat, allowed):
    client.force_login(pat)
    response = client.post(
        PAGE,
        {
            "name": "Main",
            "url": "https://backstage.example.com/catalog.yaml",
            "token": "s3cret-token",
            "interval_minutes": 30,
        },
    )
    assert response.status_code == 302
    source = BackstageSource.objects.get()
    assert (source.token, source.interval_minutes, source.created_by) == ("s3cret-token", 30, pat)
    page = client.get(PAGE).content.decode()
    assert "token set" in page and "s3cret-token" not in page
    event = AuditEvent.objects.get(action="backstage_source_added")
    assert event.data["token"] == "set" and "s3cret" not in str(event.data)


def test_the_page_costs_the_same_whatever_the_number_of_sources(
    client, pat, django_assert_max_num_queries
):
    client.force_login(pat)

    def add(n: int) -> None:
        for i in range(n):
            job = ImportJob.objects.create(created_by=pat, total=1)
            BackstageSource.objects.create(
                name=f"s{BackstageSource.objects.count()}-{i}",
                url="https://backstage.example.com/c.yaml",
                created_by=pat,
                last_job=job,
                last_error="boom",
                last_status=SyncStatus.FAILED,
            )

    add(1)
    with django_assert_max_num_queries(9):
        assert client.get(PAGE).status_code == 200
    add(20)
    with django_assert_max_num_queries(9):
        page = client.get(PAGE)
    assert page.content.decode().count("boom") == 21


def test_sync_now_runs_the_source_and_the_page_shows_how_it_went(
    client, pat, allowed, django_capture_on_commit_callbacks
):
    with catalog_server() as served:
        source = BackstageSource.objects.create(
            name="Fixture", url=served.url("fixture/missing.yaml"), created_by=pat
        )
        client.force_login(pat)
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post(PAGE, {"sync": source.pk}).status_code == 302
    source.refresh_from_db()
    assert source.last_status == SyncStatus.FAILED
    assert "answered HTTP 404" in client.get(PAGE).content.decode()
    ops = client.get(reverse("ops")).content.decode()
    assert "Backstage sources" in ops and "answered HTTP 404" in ops


def test_pause_resume_and_retire_never_delete(client, pat):
    source = BackstageSource.objects.create(
        name="Main", url="https://backstage.example.com/c.yaml", created_by=pat
    )
    client.force_login(pat)
    client.post(PAGE, {"pause": source.pk})
    source.refresh_from_db()
    assert not source.enabled
    client.post(PAGE, {"sync": source.pk})  # a paused source is not synced
    assert not AuditEvent.objects.filter(action="backstage_source_sync_requested").exists()
    client.post(PAGE, {"resume": source.pk})
    client.post(PAGE, {"retire": source.pk})
    source.refresh_from_db()
    assert source.retired_at is not None and not source.enabled
    assert BackstageSource.objects.count() == 1


def test_the_api_is_the_platform_teams_and_the_token_write_only(pat, alice, allowed):
    assert api(alice).get(API).status_code == 403
    assert APIClient().get(API).status_code in (401, 403)

    bad = api(pat).post(API, {"name": "X", "url": "https://evil.test/c.yaml"}, format="json")
    assert bad.status_code == 400 and "APPKEEPER_BACKSTAGE_ALLOWED_HOSTS" in bad.json()["url"][0]

    created = api(pat).post(
        API,
        {"name": "Main", "url": "https://backstage.example.com/c.yaml", "token": "tok"},
        format="json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["token_set"] is True and "token" not in body
    detail = f"{API}{body['id']}/"
    assert api(alice).patch(detail, {"enabled": False}, format="json").status_code == 403

    changed = api(pat).patch(detail, {"token": "", "interval_minutes": 15}, format="json")
    assert changed.status_code == 200 and changed.json()["token_set"] is False

    assert api(pat).post(f"{detail}sync/").status_code == 202
    retired = api(pat).patch(detail, {"retired": True}, format="json")
    assert retired.json()["retired_at"] is not None
    assert api(pat).post(f"{detail}sync/").status_code == 400
    assert api(pat).delete(detail).status_code == 405


def test_the_gauge_says_which_source_fails(client, pat):
    BackstageSource.objects.create(
        name="broken", url="https://a.example.com/c.yaml", created_by=pat, last_status="failed"
    )
    BackstageSource.objects.create(name="fine", url="https://a.example.com/d.yaml", created_by=pat)
    text = client.get("/metrics", REMOTE_ADDR="127.0.0.1").content.decode()
    assert 'appkeeper_backstage_source_failing{source="broken"} 1.0' in text
    assert 'appkeeper_backstage_source_failing{source="fine"} 0.0' in text


def _gone(pat, days: int, *, state: str = AppState.ACTIVE) -> BackstageEntity:
    source, _ = BackstageSource.objects.get_or_create(
        name="Main", defaults={"url": "https://a.example.com/c.yaml", "created_by": pat}
    )
    app = MicroAppFactory(state=state, went_live_at=timezone.now() - timedelta(days=200))
    return BackstageEntity.objects.create(
        ref=f"component:default/{app.slug}",
        kind="component",
        name=app.slug,
        source=source,
        app=app,
        missing_since=timezone.now() - timedelta(days=days),
    )


def test_a_finished_sync_flags_what_it_did_not_see(pat):
    source = BackstageSource.objects.create(
        name="Main", url="https://a.example.com/c.yaml", created_by=pat
    )
    start = timezone.now()
    seen = BackstageEntity.objects.create(
        ref="component:default/a",
        kind="component",
        name="a",
        source=source,
        last_seen_at=start + timedelta(seconds=1),
    )
    unseen = BackstageEntity.objects.create(
        ref="component:default/b",
        kind="component",
        name="b",
        source=source,
        last_seen_at=start - timedelta(days=1),
    )
    job = ImportJob.objects.create(
        created_by=pat, source=source, started_at=start, finished_at=start + timedelta(minutes=1)
    )

    assert sync_finished(job) == 1
    seen.refresh_from_db()
    unseen.refresh_from_db()
    assert seen.missing_since is None and unseen.missing_since == job.finished_at


def test_an_app_gone_past_the_grace_gets_one_sunset_case(pat, settings):
    settings.APPKEEPER_BACKSTAGE_MISSING_GRACE_DAYS = 14
    old = _gone(pat, 15)
    recent = _gone(pat, 10)
    retired = _gone(pat, 30, state=AppState.RETIRED)

    assert propose_missing_retirements() == 1

    case = SunsetCase.objects.get()
    assert case.app_id == old.app_id and case.reason == SunsetReason.BACKSTAGE_REMOVED
    assert "removed from Backstage source Main on" in case.figures["why"]
    old.app.refresh_from_db()
    assert old.app.state == AppState.SUNSETTING
    assert AuditEvent.objects.filter(app=old.app, action="sunset_started").count() == 1
    recent.app.refresh_from_db()
    retired.app.refresh_from_db()
    assert recent.app.state == AppState.ACTIVE and retired.app.state == AppState.RETIRED

    # Upheld and kept: the same disappearance never opens a second case.
    case.closed_at = timezone.now()
    case.save()
    type(old.app).objects.filter(pk=old.app_id).update(state=AppState.ACTIVE)
    with time_machine.travel(timezone.now() + timedelta(days=5), tick=False):
        assert propose_missing_retirements() == 1  # the recent one's turn has come
    assert SunsetCase.objects.filter(app=old.app).count() == 1
