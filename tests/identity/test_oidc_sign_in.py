"""Signing in through the OpenID Connect code flow: accounts, roles, teams, refusals."""

from __future__ import annotations

import base64
import hashlib
from urllib.parse import parse_qs, urlparse

import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.contrib.auth import get_user_model
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP, AppState
from catalog.models import AuditEvent
from identity.models import DeactivatedVia, GroupMapping, Person, Source
from identity.roles import ROLES_SYNCED
from tests.factories import MicroAppFactory, TeamFactory, UserFactory, add_to_group
from tests.identity.oidc_support import (
    CLIENT_ID,
    CLIENT_SECRET,
    come_back,
    oidc_fixture,  # noqa: F401  (provides the oidc fixture)
    sign_in,
    start_sign_in,
)

User = get_user_model()

ALICE = {
    "sub": "00u-alice",
    "email": "alice.smith@example.com",
    "email_verified": True,
    "preferred_username": "alice.smith",
    "given_name": "Alice",
    "family_name": "Smith",
}


def signed_in_user(client):
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def group_names(user) -> set[str]:
    return set(user.groups.values_list("name", flat=True))


@pytest.fixture
def mapped(settings, support_tools, field_ops):
    """Platform and finance from rows, teams from both the page and the environment."""
    GroupMapping.objects.create(group="appkeeper-platform", role=PLATFORM_GROUP)
    GroupMapping.objects.create(group="finance-staff", role=FINANCE_GROUP)
    GroupMapping.objects.create(group="team-support", role="team", team=support_tools)
    settings.APPKEEPER_OIDC_GROUP_MAP = {"field-people": ["team:field-ops"]}


def test_first_sign_in_creates_the_account_its_directory_record_and_its_roles(
    client, oidc, mapped, support_tools
):
    oidc.claims = {**ALICE, "groups": ["appkeeper-platform", "team-support", "unmapped"]}

    response = sign_in(client, oidc, next_url="/apps/")

    assert response.status_code == 302 and response["Location"] == "/apps/"
    user = signed_in_user(client)
    assert (user.username, user.email, user.first_name) == ("alice.smith", ALICE["email"], "Alice")
    assert not user.has_usable_password()
    person = Person.objects.get(user=user)
    assert (person.source, person.oidc_issuer, person.oidc_subject) == (
        Source.OIDC,
        oidc.issuer,
        "00u-alice",
    )
    assert group_names(user) == {PLATFORM_GROUP}
    assert user.is_staff  # the admin lets the platform team in, as grant_role does
    assert list(user.appkeeper_teams.values_list("slug", flat=True)) == ["support-tools"]
    assert "Welcome back, Alice." in messages_of(response)
    event = AuditEvent.objects.get(action=ROLES_SYNCED)
    assert event.data["added_roles"] == [PLATFORM_GROUP]
    assert event.data["joined_teams"] == ["support-tools"]


def test_roles_follow_the_groups_at_every_sign_in_and_only_mapped_ones(
    client, oidc, mapped, support_tools, field_ops
):
    oidc.claims = {**ALICE, "groups": ["appkeeper-platform", "finance-staff", "team-support"]}
    sign_in(client, oidc)
    user = signed_in_user(client)
    by_hand = TeamFactory(slug="by-hand")
    by_hand.members.add(user)
    client.logout()

    oidc.claims = {**ALICE, "groups": ["finance-staff", "field-people"]}
    sign_in(client, oidc)

    assert signed_in_user(client) == user
    assert group_names(user) == {FINANCE_GROUP}
    teams = set(user.appkeeper_teams.values_list("slug", flat=True))
    # Support tools was mapped and is gone; field-ops comes from the environment; a team no
    # mapping names keeps its hand-made membership.
    assert teams == {"field-ops", "by-hand"}
    client.logout()

    oidc.claims = {**ALICE, "groups": []}
    sign_in(client, oidc)
    user.refresh_from_db()
    assert group_names(user) == set() and not user.is_staff


def test_a_role_no_mapping_gives_is_left_as_granted_by_hand(client, oidc, support_tools):
    GroupMapping.objects.create(group="team-support", role="team", team=support_tools)
    pat = add_to_group(UserFactory(username="pat", email="pat@example.com"), PLATFORM_GROUP)
    oidc.claims = {"sub": "pat-1", "email": "pat@example.com", "email_verified": True}

    sign_in(client, oidc)

    assert signed_in_user(client) == pat  # adopted by the verified address
    assert group_names(pat) == {PLATFORM_GROUP}


def test_an_es256_provider_signs_people_in(client, oidc):
    oidc.key = ec.generate_private_key(ec.SECP256R1())
    oidc.algorithm = "ES256"
    oidc.claims = ALICE

    sign_in(client, oidc)

    assert signed_in_user(client).username == "alice.smith"


def test_the_signing_keys_are_read_once_and_again_when_the_provider_rotates_them(client, oidc):
    oidc.claims = ALICE
    sign_in(client, oidc)
    client.logout()
    sign_in(client, oidc)
    assert oidc.jwks_requests == 1

    client.logout()
    oidc.key, oidc.kid = ec.generate_private_key(ec.SECP256R1()), "key-2"
    oidc.algorithm = "ES256"
    sign_in(client, oidc)

    assert signed_in_user(client).username == "alice.smith"
    assert oidc.jwks_requests == 2


def test_the_subject_wins_over_a_changed_email(client, oidc):
    sign_in_as = {"sub": "s-1", "email": "old@example.com", "email_verified": True}
    oidc.claims = sign_in_as
    sign_in(client, oidc)
    first = signed_in_user(client)
    client.logout()
    UserFactory(username="someone-else", email="new@example.com")

    oidc.claims = {**sign_in_as, "email": "new@example.com"}
    sign_in(client, oidc)

    assert signed_in_user(client) == first
    first.refresh_from_db()
    assert first.email == "new@example.com"


def test_an_unverified_email_does_not_adopt_an_account(client, oidc):
    local = UserFactory(username="alice.smith", email=ALICE["email"])
    oidc.claims = {**ALICE, "email_verified": False}

    sign_in(client, oidc)

    user = signed_in_user(client)
    assert user != local and user.username == "alice.smith-2"


def test_a_deactivated_account_is_refused(client, oidc):
    UserFactory(username="gone", email=ALICE["email"], is_active=False)
    oidc.claims = ALICE

    response = sign_in(client, oidc)

    assert response["Location"].startswith("/login/")
    assert signed_in_user(client) is None
    assert any("deactivated" in m for m in messages_of(response))


def test_leaving_the_access_group_refuses_the_sign_in_and_hands_the_apps_over(
    client, oidc, settings, support_tools
):
    settings.APPKEEPER_OIDC_ACCESS_GROUPS = ["appkeeper-users"]
    oidc.claims = {**ALICE, "groups": ["appkeeper-users"]}
    sign_in(client, oidc)
    leaver = signed_in_user(client)
    lead = UserFactory(username="lead")
    support_tools.lead = lead
    support_tools.save()
    app = MicroAppFactory(team=support_tools, owner=leaver, state=AppState.ACTIVE)
    client.logout()

    oidc.claims = {**ALICE, "groups": ["someone-else"]}
    response = sign_in(client, oidc)

    assert signed_in_user(client) is None
    assert any("not in a group allowed" in m for m in messages_of(response))
    leaver.refresh_from_db()
    assert not leaver.is_active
    assert leaver.person.deactivated_via == DeactivatedVia.OIDC
    app.refresh_from_db()
    assert app.owner == lead


def test_back_in_the_access_group_the_account_comes_back_but_not_the_apps(
    client, oidc, settings, support_tools
):
    settings.APPKEEPER_OIDC_ACCESS_GROUPS = ["appkeeper-users"]
    oidc.claims = {**ALICE, "groups": ["appkeeper-users"]}
    sign_in(client, oidc)
    person = signed_in_user(client)
    app = MicroAppFactory(team=support_tools, owner=person, state=AppState.ACTIVE)
    client.logout()
    oidc.claims = {**ALICE, "groups": []}
    sign_in(client, oidc)
    app.refresh_from_db()
    assert app.orphaned_at is not None  # nobody to hand it to

    oidc.claims = {**ALICE, "groups": ["appkeeper-users"]}
    sign_in(client, oidc)

    assert signed_in_user(client) == person
    person.refresh_from_db()
    assert person.is_active and person.person.deactivated_at is None


def test_an_account_the_admin_deactivated_stays_off(client, oidc, settings):
    settings.APPKEEPER_OIDC_ACCESS_GROUPS = ["appkeeper-users"]
    oidc.claims = {**ALICE, "groups": ["appkeeper-users"]}
    sign_in(client, oidc)
    user = signed_in_user(client)
    client.logout()
    user.is_active = False
    user.save()  # the admin's way: recorded as deactivated via the admin

    response = sign_in(client, oidc)

    assert signed_in_user(client) is None
    assert any("deactivated" in m for m in messages_of(response))


def test_outside_the_access_group_no_account_is_made(client, oidc, settings):
    settings.APPKEEPER_OIDC_ACCESS_GROUPS = ["appkeeper-users"]
    oidc.claims = {**ALICE, "groups": []}

    sign_in(client, oidc)

    assert not User.objects.filter(email=ALICE["email"]).exists()


def test_the_token_request_carries_the_pkce_verifier_and_the_client_credentials(client, oidc):
    oidc.claims = ALICE
    request = start_sign_in(client)
    assert request["code_challenge_method"] == "S256"
    assert request["scope"] == "openid email profile"
    assert request["client_id"] == CLIENT_ID

    come_back(client, oidc, request)

    sent = oidc.token_requests[-1]
    verifier = sent["form"]["code_verifier"]
    digest = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=")
    assert digest.decode() == request["code_challenge"]
    assert sent["form"]["code"] == "code-1"
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert sent["authorization"] == f"Basic {expected}"
    assert "client_secret" not in sent["form"]


def test_signing_out_ends_the_provider_session_too(client, oidc):
    oidc.claims = ALICE
    sign_in(client, oidc)

    response = client.post("/logout/")

    assert signed_in_user(client) is None
    target = urlparse(response["Location"])
    assert f"{target.scheme}://{target.netloc}{target.path}" == f"{oidc.issuer}/logout"
    query = parse_qs(target.query)
    assert query["post_logout_redirect_uri"] == ["http://testserver/login/"]
    assert query["id_token_hint"][0].count(".") == 2


def test_the_sign_in_callback_costs_the_same_for_many_groups_and_mappings(
    client, oidc, django_assert_max_num_queries
):
    def callback_cost(size: int) -> int:
        teams = [TeamFactory(slug=f"team-{size}-{n}") for n in range(size)]
        for team in teams:
            GroupMapping.objects.create(group=f"g-{team.slug}", role="team", team=team)
        oidc.claims = {
            **ALICE,
            "sub": f"sub-{size}",
            "email": f"{size}@example.com",
            "groups": ["admins", *(f"g-{t.slug}" for t in teams)],
        }
        request = start_sign_in(client)
        with CaptureQueriesContext(connection) as queries:
            response = come_back(client, oidc, request)
        assert response.status_code == 302
        assert signed_in_user(client).appkeeper_teams.count() == size
        client.logout()
        return len(queries)

    GroupMapping.objects.create(group="admins", role=PLATFORM_GROUP)
    few = callback_cost(2)
    assert callback_cost(14) == few
    request = start_sign_in(client)
    with django_assert_max_num_queries(40):
        come_back(client, oidc, request)
