"""Policy-as-code: every built-in rule, the save hook, the evaluate endpoint and the page."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model

from catalog import policies
from catalog.models import AuditEvent, Contract, MicroApp
from catalog.policies import AppFacts, RegionFacts
from tests.factories import MicroAppFactory

EU = RegionFacts("eu-central", "EU", sovereign=False, pci=True)
EU_SOVEREIGN = RegionFacts("eu-sovereign", "EU", sovereign=True, pci=False)
US = RegionFacts("us-east", "US", pci=True)
UK = RegionFacts("uk-south", "UK")

SLA = {"sla_availability": Decimal("99.9"), "sla_p95_ms": 300, "sla_support_hours": "business"}


def facts(**overrides) -> AppFacts:
    base = {"slug": "x", "owner": "alice", "team": "support-tools", **SLA}
    base.update(overrides)
    return AppFacts(**base)


def found(app: AppFacts) -> set[tuple[str, str, str]]:
    return {(f.rule, f.severity, f.field) for f in policies.evaluate(app)}


# --- each rule, as a pure function -------------------------------------------------------


def test_a_plain_low_risk_app_breaks_nothing():
    assert policies.evaluate(facts(regions=(UK,))) == []


def test_pii_residency_blocks_regions_outside_the_residency_jurisdiction():
    app = facts(handles_pii=True, data_residency="EU", regions=(EU, US, UK))
    [finding] = [f for f in policies.evaluate(app) if f.rule == "pii-residency"]
    assert finding.severity == "block"
    assert finding.field == "regions"
    assert "us-east, uk-south are outside" in finding.message
    assert "European Union" in finding.message


def test_pii_residency_passes_inside_the_jurisdiction_and_needs_a_residency():
    assert ("pii-residency", "block", "regions") not in found(
        facts(handles_pii=True, data_residency="US", regions=(US,))
    )
    assert ("pii-residency", "block", "data_residency") in found(
        facts(handles_pii=True, data_residency="", regions=(US,))
    )


def test_payment_pci_blocks_non_pci_regions_only_for_payment_apps():
    assert ("payment-pci", "block", "regions") in found(
        facts(handles_payment_data=True, regions=(EU, UK))
    )
    assert ("payment-pci", "block", "regions") not in found(
        facts(handles_payment_data=True, regions=(EU, US))
    )
    assert ("payment-pci", "block", "regions") not in found(facts(regions=(UK,)))


def test_exposed_apps_need_a_runbook_and_a_valid_contract():
    exposed = facts(externally_exposed=True)
    assert found(exposed) >= {
        ("exposed-needs-contract-and-runbook", "block", "runbook_url"),
        ("exposed-needs-contract-and-runbook", "block", "contract"),
    }
    ready = facts(externally_exposed=True, runbook_url="https://r", has_valid_contract=True)
    assert not {f for f in found(ready) if f[0] == "exposed-needs-contract-and-runbook"}
    assert not found(facts(externally_exposed=False))


def test_production_needs_every_sla_field():
    app = facts(environment="production", sla_p95_ms=None, sla_support_hours="")
    assert {f for f in found(app) if f[0] == "production-needs-sla"} == {
        ("production-needs-sla", "block", "sla_p95_ms"),
        ("production-needs-sla", "block", "sla_support_hours"),
    }
    assert not found(facts(environment="staging", sla_p95_ms=None))


def test_owner_required_wants_an_active_owner_or_a_team():
    assert ("owner-required", "block", "owner") in found(facts(owner=None, team=None))
    # Team-owned: no personal owner, and the team answers for the app.
    assert not {f for f in found(facts(owner=None)) if f[0] == "owner-required"}
    gone = policies.evaluate(facts(owner="dave", owner_active=False))
    assert gone[0].rule == "owner-required" and "dave has left" in gone[0].message


def test_sovereign_for_eu_pii_warns_outside_sovereign_regions():
    app = facts(handles_pii=True, data_residency="EU", regions=(EU, EU_SOVEREIGN))
    [warning] = [f for f in policies.evaluate(app) if f.rule == "sovereign-for-eu-pii"]
    assert warning.severity == "warn"
    assert "eu-central is not sovereign" in warning.message
    assert not found(facts(handles_pii=True, data_residency="EU", regions=(EU_SOVEREIGN,)))
    assert not found(facts(handles_pii=True, data_residency="US", regions=(US,)))


def test_block_findings_come_before_warnings_and_a_new_rule_is_one_registry_entry(monkeypatch):
    def needs_repo(app):
        if not app.repository_url:
            yield policies.finding("repository_url", "Link the repository.")

    rule = policies.Rule("needs-repo", "Apps link their repository.", "warn", needs_repo)
    monkeypatch.setattr(policies, "RULES", [*policies.RULES, rule])
    result = policies.evaluate(facts(handles_pii=True, data_residency="EU", regions=(US, EU)))
    assert [f.severity for f in result] == ["block", "warn", "warn"]
    assert result[-1] == policies.Finding(
        "needs-repo", "warn", "repository_url", "Link the repository."
    )


def test_save_errors_ignore_contract_findings_and_findings_that_were_already_there():
    before = policies.evaluate(facts(handles_payment_data=True, regions=(UK,)))
    after = policies.evaluate(
        facts(handles_payment_data=True, externally_exposed=True, regions=(UK,))
    )
    assert policies.save_errors(after, before=before) == {
        "runbook_url": ["Externally exposed apps need a runbook for on-call."]
    }


# --- on save ------------------------------------------------------------------------------

APPS = "/api/v1/apps/"


def payload(**overrides) -> dict:
    body = {
        "slug": "ticket-router",
        "name": "Ticket Router",
        "kind": "integration",
        "team": "support-tools",
        "environment": "production",
        "handles_pii": True,
        "data_residency": "EU",
        "regions": ["eu-sovereign"],
        "sla_availability": "99.9",
        "sla_p95_ms": 300,
        "sla_support_hours": "business",
    }
    body.update(overrides)
    return body


@pytest.mark.django_db
def test_registering_an_app_that_breaks_a_block_rule_is_refused_with_field_messages(
    api_as, alice, regions
):
    response = api_as(alice).post(
        APPS, payload(regions=["eu-central", "us-east"], sla_p95_ms=None), format="json"
    )

    assert response.status_code == 400
    body = response.json()
    assert "us-east is outside" in body["regions"][0]
    assert body["sla_p95_ms"] == ["Production apps need an SLA: declare a p95 latency target."]
    assert not MicroApp.objects.exists()
    assert not AuditEvent.objects.exists()


@pytest.mark.django_db
def test_warnings_do_not_refuse_the_save_and_come_back_in_the_response(api_as, alice, regions):
    response = api_as(alice).post(APPS, payload(regions=["eu-central"]), format="json")

    assert response.status_code == 201, response.json()
    assert response.json()["policy_findings"] == [
        {
            "rule": "sovereign-for-eu-pii",
            "severity": "warn",
            "field": "regions",
            "message": "EU personal data is better kept in sovereign regions: "
            "eu-central is not sovereign.",
        }
    ]


@pytest.mark.django_db
def test_an_exposed_app_registers_before_its_contract_exists(api_as, alice, regions):
    body = payload(externally_exposed=True, runbook_url="https://runbooks.example.com/tr")
    response = api_as(alice).post(APPS, body, format="json")

    assert response.status_code == 201, response.json()
    rules = {(f["rule"], f["field"]) for f in response.json()["policy_findings"]}
    assert ("exposed-needs-contract-and-runbook", "contract") in rules


@pytest.mark.django_db
def test_an_update_that_breaks_a_rule_is_refused_and_nothing_changes(api_as, alice, regions):
    api_as(alice).post(APPS, payload(), format="json")

    response = api_as(alice).patch(f"{APPS}ticket-router/", {"regions": ["us-east"]}, format="json")

    assert response.status_code == 400
    assert "us-east is outside" in response.json()["regions"][0]
    app = MicroApp.objects.get(slug="ticket-router")
    assert [r.code for r in app.regions.all()] == ["eu-sovereign"]
    assert list(app.audit_events.values_list("action", flat=True)) == ["created"]


@pytest.mark.django_db
def test_an_app_that_already_breaks_a_rule_can_still_be_fixed_one_field_at_a_time(
    api_as, alice, support_tools, regions
):
    # Registered before the rules existed: payment data in a non-PCI region, no SLA.
    app = MicroAppFactory(
        slug="legacy",
        team=support_tools,
        owner=alice,
        environment="production",
        handles_payment_data=True,
        sla_p95_ms=None,
        regions=[regions["uk-south"]],
    )

    response = api_as(alice).patch(f"{APPS}legacy/", {"sla_p95_ms": 250}, format="json")

    assert response.status_code == 200, response.json()
    app.refresh_from_db()
    assert app.sla_p95_ms == 250
    assert {f["rule"] for f in response.json()["policy_findings"]} == {"payment-pci"}


# --- the evaluate endpoint -----------------------------------------------------------------

EVALUATE = "/api/v1/policies/evaluate/"


@pytest.mark.django_db
def test_evaluate_judges_a_payload_without_writing(api_as, alice, regions):
    response = api_as(alice).post(
        EVALUATE,
        payload(regions=["us-east"], externally_exposed=True, unknown_key="ignored"),
        format="json",
    )

    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["app"] == "ticket-router"
    assert body["passed"] is False
    assert {(f["rule"], f["field"]) for f in body["findings"]} == {
        ("pii-residency", "regions"),
        ("exposed-needs-contract-and-runbook", "runbook_url"),
        ("exposed-needs-contract-and-runbook", "contract"),
        ("sovereign-for-eu-pii", "regions"),
    }
    assert not MicroApp.objects.exists()


@pytest.mark.django_db
def test_evaluate_defaults_the_owner_to_the_caller_and_passes_a_clean_payload(
    api_as, alice, regions
):
    response = api_as(alice).post(EVALUATE, payload(), format="json")

    assert response.json() == {"app": "ticket-router", "passed": True, "findings": []}


@pytest.mark.django_db
def test_evaluate_applies_proposed_changes_to_an_existing_app(
    api_as, alice, support_tools, regions
):
    app = MicroAppFactory(
        slug="crm-sync", team=support_tools, owner=alice, regions=[regions["eu-central"]]
    )
    Contract.objects.create(app=app, kind="openapi", version="1", sha256="a", is_valid=True)

    response = api_as(alice).post(
        EVALUATE,
        {
            "app": "crm-sync",
            "changes": {
                "handles_payment_data": True,
                "regions": ["uk-south"],
                "externally_exposed": True,
            },
        },
        format="json",
    )

    body = response.json()
    assert body["app"] == "crm-sync"
    assert {(f["rule"], f["field"]) for f in body["findings"]} == {
        ("payment-pci", "regions"),
        ("exposed-needs-contract-and-runbook", "runbook_url"),
    }
    app.refresh_from_db()
    assert not app.handles_payment_data
    assert [r.code for r in app.regions.all()] == ["eu-central"]


@pytest.mark.django_db
def test_evaluate_rejects_bad_input_and_hides_apps_the_caller_cannot_see(
    api_as, alice, carol, field_ops, regions
):
    MicroAppFactory(slug="secret-draft", team=field_ops, owner=carol)
    client = api_as(alice)

    unknown_region = client.post(EVALUATE, payload(regions=["mars-1"]), format="json")
    orphan_changes = client.post(EVALUATE, {"changes": {"handles_pii": True}}, format="json")
    bad_change = client.post(
        EVALUATE, {"app": "secret-draft", "changes": {"environment": "moon"}}, format="json"
    )
    hidden = client.post(EVALUATE, {"app": "secret-draft", "changes": {}}, format="json")

    assert unknown_region.status_code == 400 and "regions" in unknown_region.json()
    assert orphan_changes.status_code == 400 and "app" in orphan_changes.json()
    assert bad_change.status_code == 400
    assert hidden.status_code == 404


@pytest.mark.django_db
def test_the_rules_are_listed_over_the_api(api_as, alice):
    body = api_as(alice).get("/api/v1/policies/").json()
    assert [r["id"] for r in body] == [r.id for r in policies.RULES]
    assert {r["severity"] for r in body} == {"block", "warn"}


@pytest.mark.django_db
def test_anonymous_callers_cannot_evaluate(api):
    assert api.post(EVALUATE, {}, format="json").status_code in (401, 403)


# --- the page ----------------------------------------------------------------------------


@pytest.mark.django_db
def test_policies_page_counts_the_apps_breaking_each_rule_in_fixed_queries(
    client, alice, support_tools, regions, django_assert_max_num_queries
):
    def make(n: int) -> None:
        for i in range(n):
            app = MicroAppFactory(
                team=support_tools,
                owner=alice,
                handles_payment_data=True,
                externally_exposed=True,
                regions=[regions["uk-south"]],
            )
            if i % 2:
                Contract.objects.create(app=app, kind="openapi", version="1", sha256="s")

    make(3)
    client.force_login(alice)
    with django_assert_max_num_queries(12) as small:
        response = client.get("/policies/")
    make(20)
    with django_assert_max_num_queries(len(small.captured_queries)):
        bigger = client.get("/policies/")

    assert response.status_code == 200
    counts = {row["rule"].id: len(row["apps"]) for row in bigger.context["rows"]}
    assert counts["payment-pci"] == 23
    assert counts["exposed-needs-contract-and-runbook"] == 23  # no runbook anywhere
    assert counts["pii-residency"] == 0
    assert b"payment-pci" in bigger.content


@pytest.mark.django_db
def test_policies_page_uses_the_latest_contract_version(client, alice, support_tools, regions):
    app = MicroAppFactory(
        team=support_tools,
        owner=alice,
        externally_exposed=True,
        runbook_url="https://r.example.com",
    )
    Contract.objects.create(app=app, kind="openapi", version="1", sha256="a", is_valid=True)
    Contract.objects.create(app=app, kind="openapi", version="2", sha256="b", is_valid=False)
    client.force_login(alice)

    rows = client.get("/policies/").context["rows"]

    assert {r["rule"].id: len(r["apps"]) for r in rows}["exposed-needs-contract-and-runbook"] == 1


@pytest.mark.django_db
def test_facts_from_an_unsaved_app_read_no_regions_or_contracts(django_assert_num_queries):
    user = get_user_model().objects.create(username="zed")
    app = MicroApp(slug="draft", environment="production", owner=user)

    with django_assert_num_queries(0):
        result = AppFacts.from_app(app)

    assert result.owner == "zed" and result.team is None and result.regions == ()
    assert ("production-needs-sla", "block", "sla_availability") in found(result)


@pytest.mark.django_db
def test_every_copy_of_the_residency_rule_is_the_policy_s_one_check(
    api_as, client, alice, support_tools, regions, monkeypatch
):
    """The model, the API serializer, the form, the rule and the app page all ask
    ``policies.pii_residency_errors``/``regions_outside_residency``: change the message
    once and every answer says it."""
    from django.core.exceptions import ValidationError

    from catalog.forms.apps import MicroAppForm

    monkeypatch.setattr(policies, "PII_RESIDENCY_MISSING", "Say where the data lives.")
    expected = ["Say where the data lives."]

    app = MicroAppFactory.build(team=support_tools, owner=alice, handles_pii=True)
    with pytest.raises(ValidationError) as refused:
        app.clean()
    assert refused.value.message_dict == {"data_residency": expected}

    response = api_as(alice).post(APPS, payload(data_residency=""), format="json")
    assert response.status_code == 400 and response.json()["data_residency"] == expected

    form = MicroAppForm(
        {
            "name": "V",
            "slug": "v",
            "kind": "widget",
            "environment": "sandbox",
            "criticality": "standard",
            "team": support_tools.pk,
            "owner": alice.pk,
            "handles_pii": "on",
        },
        instance=MicroApp(owner=alice),
        user=alice,
    )
    assert not form.is_valid() and form.errors["data_residency"] == expected
    assert MicroAppForm.SECTIONS[3].help == policies.PII_RESIDENCY_RULE

    [finding] = policies.evaluate(facts(handles_pii=True, data_residency=""))
    assert (finding.rule, finding.message) == ("pii-residency", expected[0])

    monkeypatch.setattr(policies, "regions_outside_residency", lambda **kw: list(kw["regions"]))
    listed = MicroAppFactory(team=support_tools, owner=alice, slug="listed")
    listed.regions.set([regions["eu-central"]])
    client.force_login(alice)
    assert 'chip--danger">Outside' in client.get(listed.get_absolute_url()).content.decode()
