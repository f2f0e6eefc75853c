"""The pages show who answers for an app, let its owners choose co-owners, and tell the
platform team when an app was left without an owner."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from catalog.models import AuditEvent
from catalog.ownership import HANDED_OVER, ORPHANED
from identity import people
from identity.models import DeactivatedVia
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def app(alice, support_tools):
    return MicroAppFactory(
        slug="router", name="Router", team=support_tools, owner=alice, state="active"
    )


def _form_data(client, app) -> dict:
    """The edit form as the browser would post it back unchanged."""
    form = client.get(reverse("app-edit", args=[app.slug])).context["form"]
    data = {}
    for name, field in form.fields.items():
        if field.disabled:
            continue
        value = form[name].value()
        if value is None or value is False:
            continue
        data[name] = [str(v) for v in value] if isinstance(value, list | tuple) else value
    return data


def test_the_app_page_shows_owner_co_owners_and_team_lead(client, alice, app, support_tools):
    support_tools.lead = UserFactory(username="lena", first_name="Lena", last_name="Lead")
    support_tools.save()
    app.co_owners.add(UserFactory(username="dana"), UserFactory(username="eve"))
    client.force_login(alice)

    body = client.get(app.get_absolute_url()).content.decode()

    assert "Co-owners</dt><dd>dana, eve</dd>" in body
    assert "Lena Lead" in body
    assert "orphaned-banner" not in body


def test_owners_choose_co_owners_on_the_edit_form(client, alice, app):
    dana = UserFactory(username="dana")
    client.force_login(alice)
    data = _form_data(client, app) | {"co_owners": [str(dana.pk)]}

    response = client.post(reverse("app-edit", args=[app.slug]), data)

    assert response.status_code == 302, response.context["form"].errors
    assert list(app.co_owners.all()) == [dana]
    event = AuditEvent.objects.filter(app=app, action="updated").latest("pk")
    assert event.changes["co_owners"] == [[], ["dana"]]


def test_a_deactivated_co_owner_is_an_inline_error(client, alice, app):
    gone = UserFactory(username="gone", is_active=False)
    client.force_login(alice)
    data = _form_data(client, app) | {"co_owners": [str(gone.pk)]}

    response = client.post(reverse("app-edit", args=[app.slug]), data)

    assert response.status_code == 200
    assert response.context["form"].errors["co_owners"] == ["gone is deactivated."]
    body = response.content.decode()
    assert 'id="error-summary"' in body and "gone is deactivated." in body
    assert not app.co_owners.exists()


def test_the_form_offers_only_active_people(client, alice, app):
    UserFactory(username="gone", is_active=False)
    client.force_login(alice)

    field = client.get(reverse("app-edit", args=[app.slug])).context["form"].fields["co_owners"]

    assert "gone" not in {user.username for user in field.queryset}


def test_an_orphaned_app_shows_the_banner_and_its_history(client, alice, pat, app):
    people.deactivate(alice, actor=None, via=DeactivatedVia.SCIM)
    client.force_login(pat)

    body = client.get(app.get_absolute_url()).content.decode()

    assert 'id="orphaned-banner"' in body and "Assign an owner" in body
    # The platform team assigns through the transfer page, which records a reason.
    assert reverse("app-transfer") + f"?apps={app.slug}" in body
    assert "Orphaned: the owner left, nobody could take over" in body
    assert "Owner who left: alice" in body
    assert "Deactivated" in body
    assert AuditEvent.objects.filter(app=app, action=ORPHANED).exists()


def test_a_handover_reads_well_in_the_history(client, alice, app):
    heir = UserFactory(username="heir")
    app.co_owners.add(heir)
    people.deactivate(alice, actor=None, via=DeactivatedVia.OIDC)
    client.force_login(heir)

    body = client.get(app.get_absolute_url()).content.decode()

    assert "Handed over: the owner left" in body
    assert "Owner: alice → heir" in body
    assert AuditEvent.objects.filter(app=app, action=HANDED_OVER).exists()


def test_assigning_an_owner_on_the_form_clears_the_orphaned_flag(client, pat, app, bob):
    app.orphaned_at = timezone.now()
    app.save(update_fields=["orphaned_at"])
    client.force_login(pat)
    data = _form_data(client, app) | {"owner": str(bob.pk)}

    response = client.post(reverse("app-edit", args=[app.slug]), data)

    assert response.status_code == 302
    app.refresh_from_db()
    assert app.owner == bob and app.orphaned_at is None


@pytest.mark.parametrize("count", [1, 40])
def test_the_app_page_does_not_grow_with_co_owners(
    client, bob, app, count, django_assert_max_num_queries
):
    from tests.catalog.test_views import APP_PAGE_BUDGET

    app.co_owners.add(*UserFactory.create_batch(count))
    client.force_login(bob)
    client.get(app.get_absolute_url())

    with django_assert_max_num_queries(APP_PAGE_BUDGET):
        assert client.get(app.get_absolute_url()).status_code == 200


def test_leaving_the_co_owners_field_checks_it_inline(client, alice, app):
    gone = UserFactory(username="gone", is_active=False)
    client.force_login(alice)
    data = _form_data(client, app) | {"co_owners": [str(gone.pk)], "_field": "co_owners"}

    response = client.post(reverse("app-edit-validate", args=[app.slug]), data)

    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="id_co_owners_errors"' in body and "gone is deactivated." in body


def test_the_team_may_assign_an_owner_to_its_orphaned_app_from_the_edit_form(client, app):
    member = UserFactory(username="member")
    app.team.members.add(member)
    people.deactivate(app.owner, actor=None, via=DeactivatedVia.SCIM)
    client.force_login(member)

    body = client.get(app.get_absolute_url()).content.decode()

    assert reverse("app-edit", args=[app.slug]) + "#field-owner" in body
    assert reverse("app-transfer") not in body
