"""The register/edit form: the rules a person sees while typing are the rules on submit."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from catalog.forms.apps import MicroAppForm
from catalog.models import MicroApp
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def data(team, owner, **overrides) -> dict:
    values = {
        "name": "Visit Logger",
        "slug": "visit-logger",
        "kind": "widget",
        "environment": "sandbox",
        "criticality": "standard",
        "team": team.pk,
        "owner": owner.pk,
    }
    values.update(overrides)
    return values


def new_form(user, values, files=None) -> MicroAppForm:
    return MicroAppForm(values, files, instance=MicroApp(owner=user), user=user)


def test_minimal_app_is_valid_and_maps_to_service_data(alice, support_tools):
    form = new_form(alice, data(support_tools, alice, tags="Ops, eu ops"))
    assert form.is_valid(), form.errors
    app_data = form.app_data()
    assert app_data["team"] == support_tools and app_data["owner"] == alice
    assert app_data["tags"] == ["ops", "eu"]
    assert list(app_data["regions"]) == [] and "contract_text" not in app_data


def test_pii_regions_outside_the_residency_are_refused(alice, support_tools, regions):
    chosen = [regions[code].pk for code in ("eu-central", "us-east", "uk-south")]
    values = data(support_tools, alice, handles_pii="on", data_residency="EU", regions=chosen)
    form = new_form(alice, values)
    assert not form.is_valid()
    assert list(form.errors) == ["regions"]
    message = form.errors["regions"][0]
    assert "Personal data must stay in European Union: uk-south, us-east are outside it" in message
    assert "eu-central" not in message


def test_pii_regions_inside_the_residency_pass(alice, support_tools, regions):
    chosen = [regions["eu-central"].pk, regions["eu-sovereign"].pk]
    values = data(support_tools, alice, handles_pii="on", data_residency="EU", regions=chosen)
    assert new_form(alice, values).is_valid()


def test_residency_rule_only_applies_to_personal_data(alice, support_tools, regions):
    values = data(support_tools, alice, data_residency="EU", regions=[regions["us-east"].pk])
    assert new_form(alice, values).is_valid()


def test_pii_without_a_residency_is_refused_by_the_model_rule(alice, support_tools):
    form = new_form(alice, data(support_tools, alice, handles_pii="on"))
    assert not form.is_valid()
    assert "must declare where that data must stay" in form.errors["data_residency"][0]


def test_slug_clash_is_a_readable_error(alice, support_tools):
    MicroAppFactory(slug="visit-logger")
    form = new_form(alice, data(support_tools, alice))
    assert not form.is_valid()
    assert form.errors["slug"] == [
        "Another app already uses this slug. Pick another, e.g. add your team's name."
    ]


@pytest.mark.parametrize("slug", ["new", "validate", "transfer"])
def test_slugs_that_collide_with_pages_are_reserved(alice, support_tools, slug):
    form = new_form(alice, data(support_tools, alice, slug=slug))
    assert not form.is_valid() and "reserved" in form.errors["slug"][0]


def test_malformed_slug_explains_the_format(alice, support_tools):
    form = new_form(alice, data(support_tools, alice, slug="Visit_Logger"))
    assert not form.is_valid()
    assert any("lowercase letters" in e for e in form.errors["slug"])


def test_only_your_own_teams_are_offered(alice, support_tools, field_ops):
    form = new_form(alice, data(field_ops, alice))
    assert list(form.fields["team"].queryset) == [support_tools]
    assert not form.is_valid() and "team" in form.errors


def test_platform_team_may_register_for_any_team(pat, support_tools, field_ops):
    assert new_form(pat, data(field_ops, pat)).is_valid()


def test_a_single_team_is_preselected(alice, support_tools):
    form = MicroAppForm(instance=MicroApp(owner=alice), user=alice)
    assert form["team"].value() == support_tools.pk
    assert form["owner"].value() == alice.pk


def test_bad_tags_name_the_offending_ones(alice, support_tools):
    form = new_form(alice, data(support_tools, alice, tags="ok, Not/Allowed"))
    assert not form.is_valid()
    assert "not/allowed" in form.errors["tags"][0]


def test_editing_keeps_the_slug_and_may_not_depend_on_itself(alice, support_tools):
    app = MicroAppFactory(slug="visit-logger", team=support_tools, owner=alice)
    form = MicroAppForm(
        data(support_tools, alice, slug="renamed", depends_on=[app.pk]), instance=app, user=alice
    )
    assert form.fields["slug"].disabled
    assert not form.is_valid()
    assert "depends_on" in form.errors  # itself is not a choice
    assert "contract_text" not in form.fields  # contracts have their own page


def test_contract_from_a_file_or_pasted_text_but_not_both(alice, support_tools):
    upload = SimpleUploadedFile("openapi.yaml", b"openapi: 3.1.0\n")
    values = data(support_tools, alice, contract_text="openapi: 3.0.0", contract_kind="openapi")
    form = MicroAppForm(
        values, {"contract_file": upload}, instance=MicroApp(owner=alice), user=alice
    )
    assert not form.is_valid() and "contract_text" in form.errors

    upload.seek(0)
    values["contract_text"] = ""
    form = MicroAppForm(
        values, {"contract_file": upload}, instance=MicroApp(owner=alice), user=alice
    )
    assert form.is_valid(), form.errors
    assert form.contract_payload() == {
        "kind": "openapi",
        "version": "1.0.0",
        "text": "openapi: 3.1.0\n",
    }


def test_payment_data_only_in_pci_regions(alice, support_tools, regions):
    values = data(support_tools, alice, handles_payment_data="on", regions=[regions["uk-south"].pk])
    form = new_form(alice, values)
    assert not form.is_valid()
    assert "PCI-certified regions: uk-south is not" in form.errors["regions"][0]


def test_editing_does_not_refuse_a_problem_the_app_already_had(alice, support_tools, regions):
    app = MicroAppFactory(
        slug="visit-logger",
        team=support_tools,
        owner=alice,
        handles_pii=True,
        data_residency="EU",
        regions=[regions["us-east"]],
    )
    values = data(
        support_tools,
        alice,
        name="Renamed",
        handles_pii="on",
        data_residency="EU",
        regions=[regions["us-east"].pk],
    )
    assert MicroAppForm(values, instance=app, user=alice).is_valid()
    # ...but one the edit introduces is refused.
    values["handles_payment_data"] = "on"
    values["regions"] = [regions["us-east"].pk, regions["uk-south"].pk]
    form = MicroAppForm(values, instance=app, user=alice)
    assert not form.is_valid() and "PCI-certified" in form.errors["regions"][0]


def test_the_criticality_help_states_the_configured_expiry_rule(client, alice, settings):
    """The promise next to "Criticality" is the rule the expiry sweep applies, with the
    deployment's numbers: not a hard-coded "yearly"."""
    settings.APPKEEPER_RECERTIFY_DAYS = 180
    settings.APPKEEPER_EXPIRY_DAYS = 60
    client.force_login(alice)

    page = client.get("/apps/new/").content.decode()

    assert "re-certified every 180 days" in page
    assert "expire after 60 days unless renewed" in page
    assert "yearly" not in page

    settings.APPKEEPER_RECERTIFY_DAYS = 365
    help_text = new_form(alice, {}).fields["criticality"].help_text
    assert help_text.startswith("Critical apps do not expire: they are re-certified every year")
