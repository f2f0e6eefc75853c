"""The bulk transfer page: preview, then confirm exactly what the preview listed."""

from __future__ import annotations

import pytest
from django.utils import timezone

from catalog.models import AuditEvent, MicroApp
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

URL = "/apps/transfer/"


@pytest.fixture
def apps(alice, support_tools):
    MicroAppFactory(owner=alice, team=support_tools, slug="alpha", name="Alpha")
    MicroAppFactory(owner=alice, team=support_tools, slug="beta", name="Beta")


def _post(client, **fields):
    return client.post(URL, {"from_owner": "", "team": "", "apps": "", "reason": "", **fields})


def test_only_the_platform_team_gets_the_page(client, alice, pat):
    client.force_login(alice)
    assert client.get(URL).status_code == 403
    client.force_login(pat)
    response = client.get(URL)
    assert response.status_code == 200
    assert b"Move apps to another owner" in response.content


def test_the_assign_owner_link_prefills_the_apps(client, pat, apps):
    client.force_login(pat)
    html = client.get(URL + "?apps=alpha").content.decode()
    assert "\nalpha</textarea>" in html


def test_preview_lists_what_moves_and_writes_nothing(client, pat, bob, apps):
    client.force_login(pat)
    response = _post(client, action="preview", from_owner="alice", to="bob")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Preview: 2 apps would move to bob" in html
    assert "Transfer 2 apps to bob" in html
    assert 'name="preview_apps" value="alpha beta"' in html
    assert 'name="preview_to" value="bob"' in html
    assert not AuditEvent.objects.exists()
    assert not MicroApp.objects.filter(owner=bob).exists()


def test_confirming_the_preview_moves_the_apps(client, pat, bob, apps):
    client.force_login(pat)
    response = _post(
        client,
        action="transfer",
        from_owner="alice",
        to="bob",
        reason="Alice moved to field ops",
        preview_apps="alpha beta",
        preview_to="bob",
    )
    assert response.status_code == 302
    assert response["Location"] == "/apps/?owner=bob"
    assert MicroApp.objects.filter(owner=bob).count() == 2
    assert AuditEvent.objects.filter(comment="Alice moved to field ops").count() == 2


def test_a_selection_that_changed_since_the_preview_is_refused(
    client, pat, bob, alice, support_tools, apps
):
    MicroAppFactory(owner=alice, team=support_tools, slug="gamma", name="Gamma")
    client.force_login(pat)
    response = _post(
        client,
        action="transfer",
        from_owner="alice",
        to="bob",
        reason="Moving",
        preview_apps="alpha beta",
        preview_to="bob",
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "changed since the preview; nothing was moved" in html
    assert 'name="preview_apps" value="alpha beta gamma"' in html  # the new preview
    assert not MicroApp.objects.filter(owner=bob).exists()


def test_confirming_without_a_preview_or_for_another_person_is_refused(
    client, pat, bob, carol, apps
):
    client.force_login(pat)
    response = _post(client, action="transfer", from_owner="alice", to="bob", reason="x")
    assert response.status_code == 400
    assert b"Preview the transfer first" in response.content
    response = _post(
        client,
        action="transfer",
        from_owner="alice",
        to="carol",
        reason="x",
        preview_apps="alpha beta",
        preview_to="bob",
    )
    assert response.status_code == 400
    assert b"The new owner changed since the preview" in response.content
    assert not AuditEvent.objects.exists()


def test_errors_are_shown_inline_with_their_field(client, pat, bob, apps):
    UserFactory(username="gone", is_active=False)
    client.force_login(pat)
    response = _post(client, action="preview", from_owner="nobody", to="gone")
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="error-summary"' in html
    assert "No one has this username." in html
    assert 'aria-invalid="true"' in html
    response = _post(client, action="preview", to="gone", apps="alpha")
    assert "gone is deactivated" in response.content.decode()
    response = _post(client, action="preview", to="bob", apps="alpha", team="support-tools")
    assert "Choose exactly one of" in response.content.decode()
    response = _post(
        client, action="transfer", to="bob", apps="alpha", preview_apps="alpha", preview_to="bob"
    )
    assert "Say why the apps move" in response.content.decode()


def test_an_orphaned_app_is_flagged_in_the_preview(client, pat, bob, support_tools):
    gone = UserFactory(username="gone", is_active=False)
    MicroAppFactory(owner=gone, team=support_tools, slug="orphan", orphaned_at=timezone.now())
    client.force_login(pat)
    html = _post(client, action="preview", apps="orphan", to="bob").content.decode()
    assert "orphaned</span>" in html


def test_the_preview_takes_the_same_queries_for_few_and_many_apps(
    client, pat, bob, alice, support_tools, django_assert_max_num_queries
):
    MicroAppFactory(owner=alice, team=support_tools)
    client.force_login(pat)
    with django_assert_max_num_queries(20) as few:
        _post(client, action="preview", from_owner="alice", to="bob")
    for _ in range(20):
        MicroAppFactory(owner=alice, team=support_tools)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = _post(client, action="preview", from_owner="alice", to="bob")
    assert "Transfer 21 apps to bob" in response.content.decode()
