"""The operations page: platform team only, fixed queries, SVG pictures, queue depth."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import JobRun
from core.panels import nav_for
from ops import views as views_ops
from tests.factories import MicroAppFactory, TeamFactory

pytestmark = pytest.mark.django_db


def _fleet(n: int, team) -> None:
    now = timezone.now()
    apps = [
        MicroAppFactory(team=team, state="active", last_seen_at=now - timedelta(hours=i * 7))
        for i in range(n)
    ]
    for index, app in enumerate(apps[1:], start=1):
        app.depends_on.add(apps[(index - 1) // 2])
    for index in range(n):
        JobRun.objects.create(task=f"task.{index % 4}", outcome="success", finished_at=now)


def test_only_the_platform_team_sees_the_page_and_its_nav_entry(client, alice, pat):
    client.force_login(alice)
    assert client.get("/ops/").status_code == 403
    assert "ops" not in [e.url_name for e in nav_for(alice)]
    assert "ops" in [e.url_name for e in nav_for(pat)]
    client.force_login(pat)
    assert client.get("/ops/").status_code == 200


def test_page_shows_tasks_freshness_and_topology(client, pat):
    team = TeamFactory()
    _fleet(6, team)
    JobRun.objects.create(task="lifecycle.expire_apps", outcome="failure", error="Boom")
    client.force_login(pat)
    html = client.get("/ops/").content.decode()
    assert "lifecycle.expire_apps" in html
    assert "Failed" in html
    assert "catalog.send_notifications" in html  # scheduled, never ran
    assert 'aria-label="Telemetry freshness bar chart"' in html
    # A group of links, not an image: role="img" would hide the links inside from assistive
    # technology (axe: nested-interactive).
    assert 'role="group" aria-label="App dependency graph: each box links to its app"' in html
    assert html.count('<path class="topo-edge topo-edge--declared"') == 5


def _queries(client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/ops/").status_code == 200
    return len(queries)


def test_the_page_takes_the_same_queries_for_a_small_and_a_larger_fleet(client, pat):
    team = TeamFactory()
    client.force_login(pat)
    _fleet(3, team)
    small = _queries(client)
    _fleet(40, team)
    assert _queries(client) == small
    assert small <= 14  # the Integrations panel: open alerts, deliveries per channel


def test_layout_puts_dependencies_left_of_dependents_and_survives_cycles():
    nodes = {i: views_ops.Node(pk=i, slug=f"app-{i}", state="active") for i in range(1, 5)}
    edges = [(2, 1), (3, 2), (4, 1), (1, 3)]  # 1 -> 3 closes a cycle
    width, height = views_ops.layered_layout(nodes, edges)
    assert width > 0 and height > 0
    assert nodes[4].x > nodes[1].x
    assert len({(n.x, n.y) for n in nodes.values()}) == 4


def test_queue_depth_reads_the_filesystem_transport(settings, tmp_path):
    settings.CELERY_BROKER_URL = "filesystem://"
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {"data_folder_in": str(tmp_path)}
    for index in range(3):
        (tmp_path / f"{index}.msg").write_text("{}")
    assert views_ops.queue_depth() == 3


def test_queue_depth_reads_redis(settings):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        client = redis.Redis.from_url(url, socket_connect_timeout=1)
        client.delete("appkeeper-test-queue")
        client.rpush("appkeeper-test-queue", "a", "b")
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    settings.CELERY_BROKER_URL = url
    try:
        assert views_ops.queue_depth("appkeeper-test-queue") == 2
    finally:
        client.delete("appkeeper-test-queue")


def test_queue_depth_is_unknown_for_other_brokers(settings):
    settings.CELERY_BROKER_URL = "amqp://guest@127.0.0.1//"
    assert views_ops.queue_depth() is None


def test_the_page_lists_orphaned_apps_longest_waiting_first(client, pat):
    team = TeamFactory()
    now = timezone.now()
    for days in (1, 9, 3):
        MicroAppFactory(
            team=team,
            state="active",
            name=f"Left {days}d ago",
            orphaned_at=now - timedelta(days=days),
        )
    MicroAppFactory(team=team, state="retired", name="Retired orphan", orphaned_at=now)
    client.force_login(pat)
    html = client.get("/ops/").content.decode()
    assert '<strong id="orphaned-count">3</strong> live apps lost their owner' in html
    assert html.index("Left 9d ago") < html.index("Left 3d ago") < html.index("Left 1d ago")
    assert "Retired orphan" not in html
    assert 'href="/apps/?orphaned=true"' in html and 'href="/apps/transfer/"' in html


def test_orphaned_apps_do_not_add_queries_as_they_grow(client, pat):
    team = TeamFactory()
    client.force_login(pat)
    MicroAppFactory(team=team, state="active", orphaned_at=timezone.now())
    small = _queries(client)
    for _ in range(12):
        MicroAppFactory(team=team, state="active", orphaned_at=timezone.now())
    assert _queries(client) == small
