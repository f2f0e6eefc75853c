"""The Provisioning page and command: a token is shown once, listed by prefix, revocable,
and only the platform team sees any of it."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from catalog.models import AuditEvent
from core.tokens import digest
from identity.models import ProvisioningToken
from identity.scim import tokens
from tests.identity.conftest import ScimClient

pytestmark = pytest.mark.django_db

PAGE = "/settings/provisioning/"


def test_the_platform_team_issues_a_token_shown_once(client, pat):
    client.force_login(pat)
    answer = client.post(PAGE, {"name": "Okta"})

    assert answer.status_code == 201
    assert "no-store" in answer["Cache-Control"]
    value = answer.context["value"]
    assert value.startswith("aps_") and value in answer.content.decode()
    token = ProvisioningToken.objects.get()
    assert token.digest == digest(value) and token.created_by == pat
    assert token.prefix == value[:12]
    assert AuditEvent.objects.get(action="provisioning_token_issued").actor == pat
    assert ScimClient(value).get("Users").status_code == 200

    listed = client.get(PAGE).content.decode()
    assert value not in listed and token.prefix in listed and "never" not in listed


def test_names_are_checked_inline(client, pat):
    client.force_login(pat)
    tokens.issue(name="Okta", actor=pat)
    taken = client.post(PAGE, {"name": "Okta"})
    assert taken.status_code == 400
    assert "already in use" in taken.content.decode()
    empty = client.post(PAGE, {"name": "  "})
    assert empty.status_code == 400 and empty.context["form"].errors["name"]
    assert ProvisioningToken.objects.count() == 1


def test_revoking_cuts_the_provider_off(client, pat):
    token, value = tokens.issue(name="Entra ID", actor=pat)
    client.force_login(pat)

    answer = client.post(reverse("provisioning-token-revoke", args=[token.pk]), follow=True)

    assert "is revoked" in answer.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert ScimClient(value).get("Users").status_code == 401
    again = client.post(reverse("provisioning-token-revoke", args=[token.pk]), follow=True)
    assert "already revoked" in again.content.decode()
    assert AuditEvent.objects.filter(action="provisioning_token_revoked").count() == 1
    # The name is free again once its token is revoked.
    assert tokens.issue(name="Entra ID", actor=pat)[0].pk != token.pk


@pytest.mark.parametrize("who", ["alice", "fin"])
def test_only_the_platform_team(client, request, who):
    token, _ = tokens.issue(name="Okta", actor=None)
    client.force_login(request.getfixturevalue(who))
    assert client.get(PAGE).status_code == 403
    assert client.post(PAGE, {"name": "mine"}).status_code == 403
    assert client.post(reverse("provisioning-token-revoke", args=[token.pk])).status_code == 403
    assert ProvisioningToken.objects.filter(revoked_at__isnull=True).count() == 1


def test_the_nav_shows_provisioning_to_the_platform_team_only(client, pat, alice):
    client.force_login(pat)
    assert PAGE in client.get("/").content.decode()
    client.force_login(alice)
    assert PAGE not in client.get("/").content.decode()


def test_the_page_costs_the_same_queries_for_any_number_of_tokens(
    client, pat, django_assert_max_num_queries
):
    client.force_login(pat)
    client.get(PAGE)
    for n in range(3):
        tokens.issue(name=f"few {n}", actor=pat)
    with django_assert_max_num_queries(30) as few:
        client.get(PAGE)
    for n in range(20):
        tokens.issue(name=f"many {n}", actor=pat)
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(PAGE)


def test_the_command_prints_the_value_once():
    out, err = io.StringIO(), io.StringIO()
    call_command("issue_scim_token", "Okta", stdout=out, stderr=err)
    value = out.getvalue().strip()
    assert value.startswith("aps_") and "shown once" in err.getvalue()
    assert ProvisioningToken.objects.get(digest=digest(value)).created_by is None
    with pytest.raises(CommandError, match="already in use"):
        call_command("issue_scim_token", "Okta", stdout=io.StringIO(), stderr=io.StringIO())
