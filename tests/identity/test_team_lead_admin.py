"""The platform team names a team's lead in the Django admin; a deactivated person is
refused on the field."""

from __future__ import annotations

import pytest

from tests.factories import TeamFactory, UserFactory

pytestmark = pytest.mark.django_db


def _post(client, team, lead) -> object:
    data = {
        "name": team.name,
        "slug": team.slug,
        "cost_center": team.cost_center,
        "contact_email": team.contact_email,
        "chat_channel": "",
        "webhook_url": "",
        "webhook_secret": "",
        "external_id": "",
        "members": [],
        "lead": lead.pk,
    }
    return client.post(f"/admin/catalog/team/{team.pk}/change/", data)


def test_the_admin_sets_a_team_lead(client, admin_user):
    team, lead = TeamFactory(), UserFactory(username="lena")
    client.force_login(admin_user)

    response = _post(client, team, lead)

    assert response.status_code == 302, response.context["adminform"].form.errors
    team.refresh_from_db()
    assert team.lead == lead
    assert "lena" in client.get("/admin/catalog/team/").content.decode()


def test_the_admin_refuses_a_deactivated_lead(client, admin_user):
    team, gone = TeamFactory(), UserFactory(username="gone", is_active=False)
    client.force_login(admin_user)

    response = _post(client, team, gone)

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["lead"] == ["gone is deactivated."]


def test_the_admin_lead_change_is_audited_like_the_team_page(client, admin_user):
    from catalog.models import AuditEvent

    team = TeamFactory()
    old, new = UserFactory(username="olga"), UserFactory(username="nils")
    team.lead = old
    team.save()
    client.force_login(admin_user)

    assert _post(client, team, new).status_code == 302
    team.refresh_from_db()
    assert team.lead == new
    event = AuditEvent.objects.get(action="team_lead_changed")
    assert event.data == {"team": team.slug, "before": "olga", "after": "nils"}
    assert event.actor == admin_user
