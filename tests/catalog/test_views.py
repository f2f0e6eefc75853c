"""Browser pages: who sees what, what each action writes, and query budgets that hold."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import (
    AuditEvent,
    BackstageEntity,
    BackstageSource,
    Contract,
    Dependency,
    MicroApp,
    Review,
)
from tests.factories import PASSWORD, MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    """PBKDF2 costs most of a second per factory user; these tests are not about hashing."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def signed_in(client):
    def do(user):
        client.force_login(user)
        return client

    return do


@pytest.fixture
def alices_app(alice, support_tools, regions):
    return MicroAppFactory(
        slug="ticket-router",
        name="Ticket Router",
        team=support_tools,
        owner=alice,
        state=AppState.ACTIVE,
        regions=[regions["eu-central"]],
    )


def form_data(team, **overrides) -> dict:
    data = {
        "name": "Shift Planner",
        "slug": "shift-planner",
        "description": "Plans shifts.",
        "kind": "ui",
        "runtime": "k8s",
        "environment": "staging",
        "criticality": "standard",
        "tags": "planning, ops",
        "team": team.pk,
        "owner": (team.members.order_by("pk").first() or UserFactory(username="owner")).pk,
        "contact": "#ops",
        "sla_availability": "99.5",
        "sla_p95_ms": "250",
        "sla_support_hours": "business",
        "data_residency": "",
        "docs_url": "",
        "runbook_url": "",
        "repository_url": "",
        "contract_kind": "openapi",
        "contract_version": "1.0.0",
        "contract_text": "",
    }
    data.update(overrides)
    return data


# --- sign in / out ---------------------------------------------------------------------


def test_pages_send_anonymous_people_to_sign_in(client):
    for name in ("dashboard", "app-list", "app-create", "my-apps"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert response.url.startswith(reverse("login"))


def test_failed_sign_in_says_what_went_wrong(client, alice):
    response = client.post(reverse("login"), {"username": "alice", "password": "wrong"})
    assert response.status_code == 200
    assert "The username or password is wrong" in response.content.decode()


def test_sign_in_greets_and_sign_out_confirms(client, alice):
    response = client.post(
        reverse("login"), {"username": "alice", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == reverse("dashboard")
    assert "Welcome back" in response.content.decode()
    response = client.post(reverse("logout"), follow=True)
    assert "You are signed out." in response.content.decode()
    assert response.wsgi_request.user.is_anonymous


# --- catalog -----------------------------------------------------------------------------


def test_catalog_lists_apps_with_state_and_risk_badges(signed_in, alice, alices_app):
    alices_app.handles_pii = True
    alices_app.data_residency = "EU"
    alices_app.save()
    body = signed_in(alice).get(reverse("app-list")).content.decode()
    assert "Ticket Router" in body
    assert "badge--active" in body and ">Active<" in body.replace("</span>", "<")
    assert "High risk" in body


def test_catalog_filters_with_the_api_filterset(signed_in, alice, alices_app, field_ops):
    MicroAppFactory(
        name="Route Optimizer", slug="route-optimizer", team=field_ops, state=AppState.ACTIVE
    )
    client = signed_in(alice)
    body = client.get(reverse("app-list"), {"team": "field-ops"}).content.decode()
    assert "Route Optimizer" in body and "Ticket Router" not in body
    body = client.get(reverse("app-list"), {"q": "ticket router"}).content.decode()
    assert "Ticket Router" in body and "Route Optimizer" not in body


def test_catalog_count_agrees_with_its_number(signed_in, alice, alices_app, field_ops):
    client = signed_in(alice)
    one = client.get(reverse("app-list"), {"q": "ticket"}).content.decode()
    assert "<strong>1</strong> app matches your filters" in one
    MicroAppFactory(name="Ticket Printer", slug="ticket-printer", team=field_ops, state="active")
    two = client.get(reverse("app-list"), {"q": "ticket"}).content.decode()
    assert "<strong>2</strong> apps match your filters" in two


def test_catalog_search_form_with_every_filter_on_any_filters_nothing(signed_in, alice, alices_app):
    # The search form submits every select; "any" is an empty value, not an unknown one.
    empty = dict.fromkeys(
        ("team", "state", "risk", "region", "kind", "environment", "pinned_behind"), ""
    )
    body = signed_in(alice).get(reverse("app-list"), {"q": "ticket", **empty}).content.decode()
    assert "Ticket Router" in body
    assert "Ignored an unknown value" not in body


def test_catalog_still_reports_a_really_unknown_filter_value(signed_in, alice, alices_app):
    body = signed_in(alice).get(reverse("app-list"), {"state": "sleeping"}).content.decode()
    assert "Ignored an unknown value for: state." in body


def test_catalog_pinned_behind_control_filters_like_the_api(
    signed_in, alice, alices_app, support_tools
):
    provider = MicroAppFactory(name="Billing", slug="billing", team=support_tools, state="active")
    follower = MicroAppFactory(name="Follower", slug="follower", team=support_tools, state="active")
    Contract.objects.create(
        app=provider,
        kind="openapi",
        version="2.0.0",
        document={"openapi": "3.0.3", "paths": {}},
        sha256=Contract.digest("billing-2.0.0"),
    )
    Dependency.objects.create(from_microapp=alices_app, to_microapp=provider, version_range="^1")
    Dependency.objects.create(from_microapp=follower, to_microapp=provider, version_range="^2")
    client = signed_in(alice)

    page = client.get(reverse("app-list")).content.decode()
    assert '<label for="id_pinned_behind">Pinned behind a provider</label>' in page
    # One of the selects the form's htmx trigger listens to, like the other filters.
    assert 'class="filter-select" id="id_pinned_behind" name="pinned_behind"' in page

    behind = client.get(reverse("app-list"), {"pinned_behind": "true"}).content.decode()
    assert "Ticket Router" in behind and "Follower" not in behind
    assert '<option value="true" selected>' in behind
    assert "<strong>1</strong> app matches your filters" in behind
    others = client.get(
        reverse("app-list"),
        {"pinned_behind": "false"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    body = others.content.decode()
    assert "Follower" in body and "Billing" in body and "Ticket Router" not in body
    assert others["HX-Push-Url"] == reverse("app-list") + "?pinned_behind=false"
    anything = client.get(reverse("app-list"), {"pinned_behind": ""}).content.decode()
    assert "Ticket Router" in anything and "Follower" in anything


def test_catalog_htmx_request_gets_the_table_partial_and_a_clean_pushed_url(
    signed_in, alice, alices_app
):
    response = signed_in(alice).get(
        reverse("app-list"),
        {"q": "ticket", "team": "", "state": ""},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="results",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<section id="results"')
    assert "<html" not in body
    assert response["HX-Push-Url"] == "/apps/?q=ticket"
    assert "HX-Request" in response["Vary"]


def test_catalog_history_restore_gets_the_whole_page(signed_in, alice, alices_app):
    response = signed_in(alice).get(
        reverse("app-list"), HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true"
    )
    assert "<html" in response.content.decode()


def test_catalog_sorts_by_column_and_paginates(signed_in, alice, support_tools):
    for i in range(30):
        MicroAppFactory(
            name=f"App {i:02d}",
            slug=f"app-{i:02d}",
            team=support_tools,
            owner=alice,
            state=AppState.ACTIVE,
        )
    client = signed_in(alice)
    first = client.get(reverse("app-list"), {"sort": "-name"}).context["apps"]
    assert [a.slug for a in first][:2] == ["app-29", "app-28"]
    page2 = client.get(reverse("app-list"), {"sort": "-name", "page": 2})
    assert [a.slug for a in page2.context["apps"]] == [f"app-{i:02d}" for i in range(4, -1, -1)]
    assert "Page 2 of 2" in page2.content.decode()


def test_catalog_empty_states_say_what_to_do(signed_in, alice, alices_app):
    client = signed_in(alice)
    body = client.get(reverse("app-list"), {"q": "nothing-like-this"}).content.decode()
    assert "No apps match these filters" in body and "clear all filters" in body
    AuditEvent.objects.all().delete()
    MicroApp.objects.all().delete()
    body = client.get(reverse("app-list")).content.decode()
    assert "No apps in the catalog yet" in body and reverse("app-create") in body


def test_catalog_hides_other_teams_drafts(signed_in, carol, alice, support_tools):
    MicroAppFactory(name="Secret Draft", slug="secret-draft", team=support_tools, owner=alice)
    assert "Secret Draft" not in signed_in(carol).get(reverse("app-list")).content.decode()


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def _fleet(n: int, teams, regions) -> list[MicroApp]:
    # One owner for all: hashing a password per factory user would dominate the run time.
    owner = UserFactory(username="fleet-owner")
    apps = []
    for i in range(n):
        app = MicroAppFactory(
            team=teams[i % len(teams)],
            state=AppState.ACTIVE,
            owner=owner,
            regions=list(regions.values())[: 1 + i % 3],
        )
        apps.append(app)
    for a, b in zip(apps, apps[1:], strict=False):
        a.depends_on.add(b)
    return apps


# Measured: the catalog runs 10 queries, the app page 14 of its own (with the dependency
# links, and the blast radius walk when anyone calls the app) plus those of the panels
# lifecycle, scorecards and reviews register (14 today: the observed calls are read by the
# policy findings and by their own panel). Growth with the fleet is caught
# exactly by the 3-vs-60 comparison below.
CATALOG_BUDGET = 12
APP_PAGE_BUDGET = 28


@pytest.mark.parametrize("size", [3, 60])
def test_catalog_page_query_budget_does_not_grow_with_the_fleet(
    signed_in, alice, support_tools, field_ops, regions, size, django_assert_max_num_queries
):
    _fleet(size, [support_tools, field_ops], regions)
    client = signed_in(alice)
    client.get(reverse("app-list"))  # warm caches that are not per request
    with django_assert_max_num_queries(CATALOG_BUDGET):
        client.get(reverse("app-list"), {"sort": "risk"})
    with django_assert_max_num_queries(CATALOG_BUDGET):
        client.get(
            reverse("app-list"),
            {"region": "eu-central", "q": "app"},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="results",
        )


def test_catalog_and_app_page_run_the_same_queries_at_3_and_60_apps(
    signed_in, alice, support_tools, field_ops, regions
):
    client = signed_in(alice)
    small = _fleet(3, [support_tools, field_ops], regions)
    client.get(reverse("app-list"))  # warm per-process caches (content types, templates)
    client.get(small[1].get_absolute_url())
    counts_small = (
        _queries(client, reverse("app-list")),
        _queries(client, small[1].get_absolute_url()),
    )
    big = _fleet(57, [support_tools, field_ops], regions)
    for app in big[:20]:
        app.depends_on.add(small[1])  # 20 more dependents of the app we look at
    counts_big = (
        _queries(client, reverse("app-list")),
        _queries(client, small[1].get_absolute_url()),
    )
    assert counts_small == counts_big


@pytest.mark.parametrize("size", [3, 60])
def test_app_page_query_budget_does_not_grow_with_the_fleet(
    signed_in, alice, support_tools, field_ops, regions, size, django_assert_max_num_queries
):
    apps = _fleet(size, [support_tools, field_ops], regions)
    target = apps[1]
    for other in apps[2:]:
        other.depends_on.add(target)
    # The Backstage panel and the deprecated badges read what the page's query joined.
    source = BackstageSource.objects.create(
        name="main", url="https://x.test/c.yaml", created_by=alice
    )
    BackstageEntity.objects.create(
        ref="component:default/t",
        kind="component",
        name="t",
        app=target,
        source=source,
        document={"metadata": {"links": [{"url": "https://x.test"}]}, "spec": {"type": "service"}},
    )
    MicroApp.objects.filter(pk__in=[a.pk for a in apps[2:]]).update(deprecated=True)
    for _ in range(5):
        AuditEvent.record(app=target, actor=alice, action="updated", changes={"name": ["a", "b"]})
    client = signed_in(alice)
    client.get(target.get_absolute_url())
    with django_assert_max_num_queries(APP_PAGE_BUDGET):
        response = client.get(target.get_absolute_url())
    assert response.status_code == 200


# --- app page ----------------------------------------------------------------------------


def test_app_page_shows_ownership_regions_dependencies_and_history(
    signed_in, alice, alices_app, support_tools, regions
):
    crm = MicroAppFactory(
        name="CRM Sync", slug="crm-sync", team=support_tools, state=AppState.ACTIVE
    )
    pager = MicroAppFactory(
        name="Escalation Pager", slug="escalation-pager", team=support_tools, state=AppState.ACTIVE
    )
    alices_app.depends_on.add(crm)
    pager.depends_on.add(alices_app)
    AuditEvent.record(app=alices_app, actor=alice, action="created", changes={})
    body = signed_in(alice).get(alices_app.get_absolute_url()).content.decode()
    assert "CRM Sync" in body and "Escalation Pager" in body  # both directions
    assert "eu-central" in body and 'class="flag flag--eu"' in body
    assert "Support Tools" in body and "Registered" in body
    assert reverse("app-edit", args=["ticket-router"]) in body


def test_timeline_shows_automatic_events_and_actions_added_by_others(signed_in, alice, alices_app):
    AuditEvent.record(app=alices_app, actor=None, action="expired", changes={})
    AuditEvent.record(app=alices_app, actor=alice, action="contract_uploaded", changes={})
    body = signed_in(alice).get(alices_app.get_absolute_url()).content.decode()
    assert "Appkeeper (automatic)" in body
    assert "Contract uploaded" in body


def test_app_page_flags_regions_outside_the_residency(signed_in, alice, alices_app, regions):
    MicroApp.objects.filter(pk=alices_app.pk).update(handles_pii=True, data_residency="EU")
    alices_app.regions.add(regions["us-east"])
    body = signed_in(alice).get(alices_app.get_absolute_url()).content.decode()
    assert "Outside EU residency" in body
    assert "handles personal data" in body


def test_app_page_has_no_edit_button_for_another_team(signed_in, carol, alices_app):
    body = signed_in(carol).get(alices_app.get_absolute_url()).content.decode()
    assert "Ticket Router" in body
    assert reverse("app-edit", args=["ticket-router"]) not in body


def test_another_teams_draft_is_404_in_the_same_layout(signed_in, carol, alice, support_tools):
    draft = MicroAppFactory(slug="secret-draft", team=support_tools, owner=alice)
    response = signed_in(carol).get(draft.get_absolute_url())
    assert response.status_code == 404
    body = response.content.decode()
    assert "Not found" in body and 'class="sidebar"' in body


def test_platform_team_sees_drafts(signed_in, pat, alice, support_tools):
    draft = MicroAppFactory(slug="secret-draft", team=support_tools, owner=alice)
    assert signed_in(pat).get(draft.get_absolute_url()).status_code == 200


def test_app_page_renders_registered_panels(signed_in, alice, alices_app, monkeypatch):
    from core import panels

    registry = dict(panels.APP_PANELS)
    registry["zz-test"] = panels.Panel(
        key="zz-test",
        title="Test panel",
        template="catalog/partials/state_badge.html",
        context=lambda request, app: {"state": app.state, "label": f"Panel for {app.slug}"},
    )
    registry["zz-hidden"] = panels.Panel(
        key="zz-hidden", title="Hidden panel", template="x.html", context=lambda r, a: None
    )
    monkeypatch.setattr("catalog.views.app.APP_PANELS", registry)
    body = signed_in(alice).get(alices_app.get_absolute_url()).content.decode()
    assert "Test panel" in body and "Panel for ticket-router" in body
    assert "Hidden panel" not in body


# --- register ----------------------------------------------------------------------------


def test_register_creates_a_draft_through_the_service_and_explains_next_steps(
    signed_in, alice, support_tools, regions
):
    client = signed_in(alice)
    data = form_data(
        support_tools, regions=[regions["eu-central"].pk], handles_pii="on", data_residency="EU"
    )
    response = client.post(reverse("app-create"), data, follow=True)
    app = MicroApp.objects.get(slug="shift-planner")
    assert response.redirect_chain[-1][0] == f"{app.get_absolute_url()}?registered=1"
    assert app.state == AppState.DRAFT and app.owner == alice and app.team == support_tools
    assert app.tags == ["planning", "ops"]
    assert list(app.regions.values_list("code", flat=True)) == ["eu-central"]
    assert AuditEvent.objects.filter(app=app, action="created", actor=alice).exists()
    body = response.content.decode()
    assert "is registered as a draft" in body
    assert "What happens next" in body and "Platform review" in body
    assert "Needed because this app handles personal data" in body
    # The telemetry secret is shown on that first page, and only there.
    assert app.ingestion_secret.startswith("whsec_") and app.ingestion_secret in body
    assert app.ingestion_secret not in client.get(app.get_absolute_url()).content.decode()


def test_register_shows_field_errors_tied_to_their_inputs(signed_in, alice, support_tools):
    MicroAppFactory(slug="shift-planner")
    response = signed_in(alice).post(reverse("app-create"), form_data(support_tools))
    assert response.status_code == 200
    body = response.content.decode()
    assert "Another app already uses this slug" in body
    assert 'aria-describedby="id_slug_help id_slug_errors"' in body
    assert 'id="id_slug_errors"' in body and 'aria-invalid="true"' in body
    assert 'href="#id_slug"' in body  # the error summary links to the field


def test_register_refuses_a_team_you_are_not_in(signed_in, alice, field_ops):
    response = signed_in(alice).post(reverse("app-create"), form_data(field_ops))
    assert response.status_code == 200
    assert not MicroApp.objects.filter(slug="shift-planner").exists()
    assert "Select a valid choice" in response.content.decode()


def test_register_without_a_team_explains_how_to_get_one(signed_in, db):
    loner = UserFactory(username="loner")
    body = signed_in(loner).get(reverse("app-create")).content.decode()
    assert "You are not in a team yet" in body


OPENAPI = """openapi: 3.0.3
info: {title: Shift Planner, version: "1.0"}
paths:
  /shifts:
    get:
      responses:
        "200": {description: The shifts}
"""


def test_register_stores_a_pasted_contract_in_the_registry(signed_in, alice, support_tools):
    data = form_data(support_tools, contract_text=OPENAPI, contract_version="1.0.0")
    response = signed_in(alice).post(reverse("app-create"), data, follow=True)
    app = MicroApp.objects.get(slug="shift-planner")
    contract = app.contracts.get()
    assert contract.kind == "openapi" and contract.is_valid
    assert "Contract 1.0.0 stored." in response.content.decode()


def test_a_refused_contract_refuses_the_registration_inline(signed_in, alice, support_tools):
    data = form_data(support_tools, contract_text="openapi: 3.0.3\npaths: 12\n")
    response = signed_in(alice).post(reverse("app-create"), data)
    assert response.status_code == 200
    assert "contract_text" in response.context["form"].errors
    assert "The contract was refused" in response.content.decode()
    assert not MicroApp.objects.filter(slug="shift-planner").exists()


def test_inline_validation_returns_the_field_with_its_error(signed_in, alice, support_tools):
    MicroAppFactory(slug="taken")
    response = signed_in(alice).post(
        reverse("app-validate"),
        {**form_data(support_tools, slug="taken"), "_field": "slug"},
        HTTP_HX_REQUEST="true",
    )
    body = response.content.decode()
    assert response.status_code == 200
    assert body.lstrip().startswith('<div class="field field--input has-error" id="field-slug"')
    assert "Another app already uses this slug" in body
    assert "<html" not in body


def test_inline_validation_of_residency_updates_regions_out_of_band(
    signed_in, alice, support_tools, regions
):
    data = form_data(
        support_tools,
        handles_pii="on",
        data_residency="EU",
        regions=[regions["us-east"].pk],
        _field="data_residency",
    )
    body = signed_in(alice).post(reverse("app-validate"), data).content.decode()
    assert 'id="field-data_residency"' in body
    assert 'id="id_regions_errors" hx-swap-oob="true"' in body
    assert "Personal data must stay in European Union: us-east is outside it" in body


def test_inline_validation_rejects_unknown_fields(signed_in, alice, support_tools):
    response = signed_in(alice).post(reverse("app-validate"), {"_field": "state"})
    assert response.status_code == 400


# --- edit --------------------------------------------------------------------------------


def test_owner_edits_through_the_service_with_an_audit_trail(signed_in, alice, alices_app):
    client = signed_in(alice)
    page = client.get(reverse("app-edit", args=[alices_app.slug]))
    assert page.status_code == 200
    assert 'name="slug"' in page.content.decode() and "disabled" in page.content.decode()
    data = form_data(
        alices_app.team,
        name="Ticket Router 2",
        slug="ignored",
        regions=[r.pk for r in alices_app.regions.all()],
    )
    response = client.post(reverse("app-edit", args=[alices_app.slug]), data, follow=True)
    alices_app.refresh_from_db()
    assert alices_app.name == "Ticket Router 2"
    assert alices_app.slug == "ticket-router"  # permanent
    assert "Saved your changes" in response.content.decode()
    event = AuditEvent.objects.get(app=alices_app, action="updated")
    assert event.actor == alice and event.changes["name"] == ["Ticket Router", "Ticket Router 2"]


@pytest.mark.parametrize("posted", ["ticket-router", "9" * 30, "-1", " 7x"])
@pytest.mark.parametrize("field", ["depends_on", "regions", "team", "owner"])
@pytest.mark.parametrize("page", ["app-create", "app-edit"])
def test_a_malformed_id_is_a_form_error_not_a_crash(
    signed_in, alice, alices_app, page, field, posted
):
    """Found by tests/fuzz: the form shown again looked the posted "ids" up as they were,
    and an id past 64 bits overflowed the database driver while the field validated it."""
    args = [alices_app.slug] if page == "app-edit" else []
    data = form_data(alices_app.team)
    data[field] = [posted] if field in ("depends_on", "regions") else posted
    before = AuditEvent.objects.count()

    response = signed_in(alice).post(reverse(page, args=args), data)

    assert response.status_code in (200, 400)
    assert field in response.context["form"].errors
    assert AuditEvent.objects.count() == before


def test_team_mate_and_platform_may_edit(signed_in, bob, pat, alices_app):
    assert signed_in(bob).get(reverse("app-edit", args=[alices_app.slug])).status_code == 200
    assert signed_in(pat).get(reverse("app-edit", args=[alices_app.slug])).status_code == 200


def test_other_team_gets_403_on_edit_in_the_same_layout(signed_in, carol, alices_app):
    client = signed_in(carol)
    response = client.get(reverse("app-edit", args=[alices_app.slug]))
    assert response.status_code == 403
    body = response.content.decode()
    assert "You can't do that" in body and 'class="sidebar"' in body
    response = client.post(reverse("app-edit", args=[alices_app.slug]), {"name": "Hijacked"})
    assert response.status_code == 403
    alices_app.refresh_from_db()
    assert alices_app.name == "Ticket Router"
    assert (
        client.post(
            reverse("app-edit-validate", args=[alices_app.slug]), {"_field": "name"}
        ).status_code
        == 403
    )


def test_finance_cannot_edit(signed_in, fin, alices_app):
    assert signed_in(fin).get(reverse("app-edit", args=[alices_app.slug])).status_code == 403


# --- dashboard & my apps ----------------------------------------------------------------


def test_dashboard_shows_my_apps_counts_expiring_and_chart(
    signed_in, alice, alices_app, support_tools, field_ops
):
    MicroApp.objects.filter(pk=alices_app.pk).update(expires_at=timezone.now() + timedelta(days=5))
    MicroAppFactory(name="Route Optimizer", team=field_ops, state=AppState.EXPIRED)
    body = signed_in(alice).get(reverse("dashboard")).content.decode()
    assert "Ticket Router" in body and "5 days left" in body
    assert "Expiring in 30 days" in body
    assert "<svg" in body and "Apps by team and state" in body and "Field Ops" in body
    assert "Reviews waiting" not in body  # not platform team


def test_dashboard_lists_waiting_reviews_for_the_platform_team(signed_in, pat, alices_app):
    Review.objects.create(app=alices_app, due_at=timezone.now() - timedelta(hours=1))
    body = signed_in(pat).get(reverse("dashboard")).content.decode()
    assert "Reviews waiting for the platform team" in body
    assert "Overdue" in body and "Ticket Router" in body


def test_my_apps_lists_mine_and_my_teams_with_a_countdown(
    signed_in, alice, bob, support_tools, field_ops
):
    soon = timezone.now() + timedelta(days=3, hours=1)
    MicroAppFactory(
        name="Bobs App", team=support_tools, owner=bob, state=AppState.ACTIVE, expires_at=soon
    )
    MicroAppFactory(name="Other Team App", team=field_ops, state=AppState.ACTIVE)
    body = signed_in(alice).get(reverse("my-apps")).content.decode()
    assert "Bobs App" in body and "3 days left" in body
    assert "Other Team App" not in body


def test_base_layout_sends_csrf_for_htmx_and_renders_registered_nav(signed_in, alice, monkeypatch):
    from core import panels

    monkeypatch.setitem(
        panels.NAV_ENTRIES, "my-apps", panels.NavEntry(label="Extra entry", url_name="my-apps")
    )
    body = signed_in(alice).get(reverse("dashboard")).content.decode()
    assert 'hx-headers=\'{"X-CSRFToken": "' in body
    assert "Extra entry" in body
    assert "/static/js/htmx.min.js" in body
    # Every script and stylesheet is our own: none is loaded from another host. (The page
    # embeds a random CSRF token, so searching for letters such as "cdn" would be flaky.)
    assert not re.search(r'(?:src|href)="(?:https?:)?//', body)


def test_next_steps_state_the_configured_numbers(signed_in, alice, support_tools, settings):
    settings.APPKEEPER_EXPIRY_DAYS = 60
    settings.APPKEEPER_REVIEW_HOURS = 24
    settings.APPKEEPER_HEARTBEAT_HOURS = 12
    settings.APPKEEPER_REMINDER_DAYS = [21, 3]
    app = MicroAppFactory(
        team=support_tools,
        owner=alice,
        state=AppState.DRAFT,
        environment="production",
        handles_pii=True,
    )
    page = signed_in(alice).get(app.get_absolute_url()).content.decode()
    steps = page.split('id="next-title"', 1)[1].split("</section>", 1)[0]
    assert "Live for 60 days; we remind you 21 and 3 days before it expires" in steps
    assert "The platform team answers within 24 hours." in steps
    assert "a telemetry heartbeat in the last 12 hours" in steps
    assert "90 days" not in steps and "48 hours" not in steps


def test_next_steps_of_a_critical_app_state_the_recertification_period(
    signed_in, alice, support_tools, settings
):
    app = MicroAppFactory(
        team=support_tools, owner=alice, state=AppState.DRAFT, criticality="critical"
    )
    client = signed_in(alice)
    assert "re-certified every year." in client.get(app.get_absolute_url()).content.decode()
    settings.APPKEEPER_RECERTIFY_DAYS = 180
    assert "re-certified every 180 days." in client.get(app.get_absolute_url()).content.decode()


def test_dashboard_expiring_card_follows_the_renewal_window(signed_in, alice, alices_app, settings):
    settings.APPKEEPER_REMINDER_DAYS = [45, 7]
    MicroApp.objects.filter(pk=alices_app.pk).update(expires_at=timezone.now() + timedelta(days=40))
    body = signed_in(alice).get(reverse("dashboard")).content.decode()
    card = body.split('id="expiring-title"', 1)[1].split("</section>", 1)[0]
    assert "Expiring in 45 days" in card and "Ticket Router" in card


def test_dashboard_says_one_day_not_one_days(signed_in, alice, alices_app, settings):
    settings.APPKEEPER_REMINDER_DAYS = [1]
    body = signed_in(alice).get(reverse("dashboard")).content.decode()
    card = body.split('id="expiring-title"', 1)[1].split("</section>", 1)[0]
    assert "Expiring in 1 day<" in card and "Nothing expires in the next 1 day." in card


def test_registering_an_exposed_app_with_its_contract_gives_only_true_advice(
    signed_in, alice, support_tools
):
    data = form_data(
        support_tools,
        contract_text=OPENAPI,
        contract_version="1.0.0",
        externally_exposed="on",
        runbook_url="https://runbooks.example.com/shift-planner",
    )

    response = signed_in(alice).post(reverse("app-create"), data, follow=True)

    assert response.redirect_chain, response.context["form"].errors
    html = response.content.decode()
    assert "Contract 1.0.0 stored." in html
    assert "need a valid API contract" not in html
