"""The hourly escalation of overdue reviews: once per review, however often or widely it runs."""

from __future__ import annotations

import os
import threading
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection

from catalog import services, tasks
from catalog.models import AuditEvent, Notification, Review
from config.celery import app as celery_app
from tests.catalog.review_support import pii_app
from tests.factories import UserFactory, add_to_group

NOW = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
PG_URL = "postgres://postgres@127.0.0.1:5432/appkeeper_reviews"


def open_reviews(n: int, *, team, owner, regions) -> list[Review]:
    with time_machine.travel(NOW, tick=False):
        for _ in range(n):
            services.app_submit(app=pii_app(team=team, owner=owner, regions=regions), actor=owner)
    return list(Review.objects.order_by("pk"))


@pytest.mark.django_db
def test_the_task_is_scheduled_hourly_under_its_name():
    entry = celery_app.conf.beat_schedule["escalate-overdue-reviews"]
    assert entry["task"] == "catalog.escalate_overdue_reviews"
    assert tasks.escalate_overdue_reviews.name in celery_app.tasks


@pytest.mark.django_db
def test_overdue_reviews_are_escalated_once_however_often_the_task_runs(
    pat, alice, support_tools, regions
):
    [review] = open_reviews(1, team=support_tools, owner=alice, regions=regions)
    later = NOW + timedelta(hours=49)

    with time_machine.travel(later, tick=False):
        first = tasks.escalate_overdue_reviews.delay().get()
        second = tasks.escalate_overdue_reviews.delay().get()
    with time_machine.travel(later + timedelta(hours=5), tick=False):
        third = tasks.escalate_overdue_reviews.delay().get()

    assert (first, second, third) == (1, 0, 0)
    review.refresh_from_db()
    assert review.escalated_at == later
    note = Notification.objects.get(kind="review_overdue")
    assert note.recipient == pat and note.app_id == review.app_id
    assert "1 h ago" in note.body
    event = AuditEvent.objects.get(action="review_escalated")
    assert event.app_id == review.app_id and event.actor is None
    assert event.data == {"review": review.pk}


@pytest.mark.django_db
def test_every_platform_member_hears_about_an_escalation(pat, alice, support_tools, regions):
    quinn = add_to_group(UserFactory(username="quinn"), "platform-team")
    open_reviews(1, team=support_tools, owner=alice, regions=regions)

    services.reviews_escalate_overdue(now=NOW + timedelta(hours=49))

    overdue = Notification.objects.filter(kind="review_overdue")
    recipients = set(overdue.values_list("recipient__username", flat=True))
    assert recipients == {pat.username, quinn.username}


@pytest.mark.django_db
def test_reviews_not_yet_due_or_already_decided_are_left_alone(
    api_as, pat, alice, support_tools, regions
):
    first, second = open_reviews(2, team=support_tools, owner=alice, regions=regions)
    services.review_decide(review=first, actor=pat, decision="approved")

    assert services.reviews_escalate_overdue(now=NOW + timedelta(hours=47)) == 0
    assert services.reviews_escalate_overdue(now=NOW + timedelta(hours=48, seconds=1)) == 1

    assert Review.objects.get(pk=first.pk).escalated_at is None
    assert Review.objects.get(pk=second.pk).escalated_at is not None


@pytest.mark.django_db
def test_an_escalated_review_can_still_be_decided(api_as, pat, alice, support_tools, regions):
    [review] = open_reviews(1, team=support_tools, owner=alice, regions=regions)
    services.reviews_escalate_overdue(now=NOW + timedelta(hours=49))

    response = api_as(pat).post(
        f"/api/v1/reviews/{review.pk}/decide/", {"decision": "approved"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["escalated_at"] is not None


@pytest.mark.django_db
def test_the_timeline_and_queue_show_the_escalation(client, pat, alice, support_tools, regions):
    [review] = open_reviews(1, team=support_tools, owner=alice, regions=regions)
    services.reviews_escalate_overdue(now=NOW + timedelta(hours=49))
    client.force_login(pat)

    with time_machine.travel(NOW + timedelta(hours=50), tick=False):
        queue = client.get("/reviews/").content.decode()
    app_page = client.get(review.app.get_absolute_url()).content.decode()

    assert "overdue, escalated" in queue
    assert "timeline__item--review_escalated" in app_page


def _postgres_reason() -> str | None:
    if connection.vendor == "postgresql":
        return None
    if os.environ.get("CI", "").lower() == "true":
        return "CI runs this suite on SQLite; the Postgres job runs the race test"
    return f"PostgreSQL-only race test: run with DATABASE_URL={PG_URL}"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_escalate_each_review_once(pat, alice, support_tools, regions):
    """Real concurrency needs a server database: SQLite serialises writers anyway."""
    reason = _postgres_reason()
    if reason:
        pytest.skip(reason)
    reviews = open_reviews(5, team=support_tools, owner=alice, regions=regions)
    workers = 4
    barrier = threading.Barrier(workers)
    counts: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(services.reviews_escalate_overdue(now=NOW + timedelta(hours=49)))
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert not errors, errors
    assert sum(counts) == len(reviews)
    assert Notification.objects.filter(kind="review_overdue").count() == len(reviews)
    assert AuditEvent.objects.filter(action="review_escalated").count() == len(reviews)
    assert not Review.objects.filter(escalated_at__isnull=True).exists()
    assert settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


@pytest.mark.django_db
def test_a_review_whose_app_was_retired_meanwhile_is_not_escalated(
    pat, alice, support_tools, regions
):
    [review] = open_reviews(1, team=support_tools, owner=alice, regions=regions)
    services.app_retire(app=review.app, actor=pat, reason="Replaced by crm-sync.")

    assert services.reviews_escalate_overdue(now=NOW + timedelta(hours=49)) == 0
    assert not Notification.objects.filter(kind="review_overdue").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("size", [3, 30])
def test_escalation_costs_the_same_queries_for_3_or_30_overdue_reviews(
    size, pat, alice, support_tools, regions, django_assert_max_num_queries
):
    add_to_group(UserFactory(username="quinn"), "platform-team")  # two members to notify
    open_reviews(size, team=support_tools, owner=alice, regions=regions)
    # Lock the overdue reviews, mark them, read the platform team, insert the notices and
    # the audit events, and the members' notification preferences: the same statements
    # for 3 reviews or 30 (SQLite splits the 60 notices at its variable limit: one more).
    with django_assert_max_num_queries(9):
        assert services.reviews_escalate_overdue(now=NOW + timedelta(hours=49)) == size
    assert Notification.objects.filter(kind="review_overdue").count() == 2 * size
    assert AuditEvent.objects.filter(action="review_escalated").count() == size
