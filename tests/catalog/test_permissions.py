"""catalog.permissions: the predicates, their filter forms, the template tag."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.template import Context, Template
from django.test import RequestFactory
from django.utils import timezone

from catalog import permissions
from catalog.choices import AppState
from catalog.models import MicroApp, Review
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db


def fresh(user):
    """The same user without the per-request caches, as the next request would see it."""
    return type(user).objects.get(pk=user.pk)


@pytest.fixture
def apps(support_tools, alice):
    return {
        state: MicroAppFactory(
            team=support_tools, owner=alice, state=state, slug=f"app-{state.replace('_', '-')}"
        )
        for state in AppState.values
    }


def test_an_owner_outside_the_team_answers_for_the_app(support_tools, field_ops, carol):
    app = MicroAppFactory(team=support_tools, owner=carol, state=AppState.DRAFT)
    assert permissions.is_owner(carol, app)
    assert permissions.can_view_app(carol, app)
    assert permissions.can_renew(carol, app) and permissions.can_edit(carol, app)
    assert MicroApp.objects.visible_to(fresh(carol)).filter(pk=app.pk).exists()


def test_a_superuser_counts_as_the_platform_team(support_tools, alice):
    root = UserFactory(username="root", is_superuser=True)
    app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.DRAFT)
    assert permissions.is_platform(root)
    assert permissions.can_view_app(root, app) and permissions.can_decide_review(root, app)


def test_roles_add_up_for_a_finance_member_of_a_team(fin, support_tools, alice):
    app = MicroAppFactory(team=support_tools, owner=alice)
    support_tools.members.add(fin)
    fin = fresh(fin)
    assert permissions.can_edit(fin, app)
    assert permissions.chargeback_teams(fin) is None  # still every team


def test_chargeback_scope(alice, carol, pat, fin, support_tools, field_ops):
    assert permissions.chargeback_teams(pat) is None
    assert permissions.chargeback_teams(fin) is None
    assert permissions.chargeback_teams(alice) == {support_tools.pk}
    assert permissions.chargeback_teams(carol) == {field_ops.pk}
    nobody = UserFactory(username="nobody")
    assert permissions.chargeback_teams(nobody) == frozenset()
    assert not permissions.can_see_chargeback(nobody)
    assert not permissions.can_see_chargeback(AnonymousUser())


def test_registering_is_for_ones_own_teams_or_any_for_the_platform(
    alice, pat, fin, support_tools, field_ops
):
    assert permissions.can_register_app(alice, support_tools)
    assert not permissions.can_register_app(alice, field_ops)
    assert permissions.can_register_app(pat, field_ops)
    assert permissions.can_register_app(alice) and not permissions.can_register_app(fin)


@pytest.mark.parametrize("who", ["alice", "bob", "carol", "pat", "fin", "anonymous"])
def test_the_visibility_filters_agree_with_the_predicates(who, request, apps, alice):
    user = AnonymousUser() if who == "anonymous" else request.getfixturevalue(who)
    for app in apps.values():
        Review.objects.create(app=app, due_at=timezone.now() + timedelta(hours=48))
    seen = set(MicroApp.objects.visible_to(user).values_list("pk", flat=True))
    assert seen == {a.pk for a in MicroApp.objects.all() if permissions.can_view_app(user, a)}
    reviews = set(Review.objects.visible_to(user).values_list("pk", flat=True))
    expected = {r.pk for r in Review.objects.all() if permissions.can_view_review(user, r)}
    assert reviews == expected


def test_drafts_are_private_to_their_team_and_the_platform(apps, alice, bob, carol, pat, fin):
    draft = apps[AppState.DRAFT]
    assert [permissions.can_view_app(u, draft) for u in (alice, bob, pat)] == [True] * 3
    assert [permissions.can_view_app(u, draft) for u in (carol, fin)] == [False] * 2


def test_the_platform_never_decides_on_apps_it_answers_for(pat, platform_team, alice, apps):
    own = MicroAppFactory(team=platform_team, owner=alice, state=AppState.IN_REVIEW)
    assert permissions.can_decide_review(pat) and permissions.can_decide_sunset(pat)
    assert not permissions.can_decide_review(pat, own)
    assert not permissions.can_decide_sunset(pat, own)
    assert permissions.can_decide_review(pat, apps[AppState.IN_REVIEW])


def render_can(user, action, app) -> str:
    request = RequestFactory().get("/")
    request.user = user
    template = Template('{% load permissions %}{% can action app as ok %}{{ ok|yesno:"y,n" }}')
    return template.render(Context({"request": request, "action": action, "app": app}))


def test_the_template_tag_asks_the_table(apps, alice, carol, pat):
    live = apps[AppState.ACTIVE]
    assert render_can(alice, "edit", live) == "y"
    assert render_can(carol, "edit", live) == "n"
    assert render_can(pat, "renew", live) == "y"
    assert render_can(pat, "decide_review", live) == "y"
    with pytest.raises(KeyError):
        render_can(alice, "fly", live)


def test_every_action_has_a_reason_to_give():
    assert permissions.APP_ACTIONS.keys() == permissions.DENIED.keys()
