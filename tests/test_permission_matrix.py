"""Who may do what, cell by cell: every API operation of the OpenAPI schema and every HTML
form target, for every kind of user, against the README's "Roles" table.

The operations come from the schema drf-spectacular generates now, and the form targets
are checked against the URL resolver: a new endpoint or page without a row in the tables
below fails ``test_every_api_operation_has_a_row`` or ``test_every_page_route_is_classified``
instead of slipping through untested.

Each write is sent with an empty body. A caller who may act gets past the permission
check and meets the body's validation (2xx/3xx, or 400/409/422); one who may not gets
401/403 before the body is read, or 404 where the object (a draft, a review) is invisible
to them, which must look exactly like an object that does not exist.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from catalog.choices import PLATFORM_GROUP, AppState
from catalog.models import BackstageSource, Contract, ImportJob, Review
from core import tokens
from identity.scim import tokens as provisioning_tokens
from lifecycle.choices import SunsetReason, SunsetResponse
from lifecycle.models import SunsetCase
from tests.factories import MicroAppFactory, RegionFactory, UserFactory, add_to_group

pytestmark = pytest.mark.django_db

# --- actors --------------------------------------------------------------------------------

ANONYMOUS = "anonymous"
OWNER = "owner"  # alice: owns the apps, and is in their team
MEMBER = "member"  # bob: in the apps' team, owns none of them
OTHER_TEAM = "other_team"  # carol: field-ops
CO_OWNER = "co_owner"  # dana: field-ops, co-owns every app of the apps' team
PLATFORM = "platform"  # pat: platform team, in the "platform" team, answers for none of them
PLATFORM_OWNER = "platform_owner"  # pam: platform team and in the apps' team
FINANCE = "finance"  # fin: finance, in no team
NO_TEAM = "no_team"  # nobody: signed in, in no team and no group
SIGNED_IN = (OWNER, MEMBER, CO_OWNER, OTHER_TEAM, PLATFORM, PLATFORM_OWNER, FINANCE, NO_TEAM)
ACTORS = (ANONYMOUS, *SIGNED_IN)

ANSWER_FOR_THE_APPS = (OWNER, MEMBER, CO_OWNER, PLATFORM_OWNER)
OWNERS_OR_PLATFORM = (*ANSWER_FOR_THE_APPS, PLATFORM)
PLATFORM_TEAM = (PLATFORM, PLATFORM_OWNER)
OUTSIDERS = (OTHER_TEAM, FINANCE, NO_TEAM)

# --- outcomes ------------------------------------------------------------------------------

ALLOWED = "allowed"  # past the permission check: 2xx/3xx or a 400/409/422 about the body
DENIED = "denied"  # 403 (401 for anonymous API callers)
HIDDEN = "hidden"  # 404, the same answer as for an object that does not exist
LOGIN = "login"  # pages: anonymous visitors are sent to the sign-in page
SIGNATURE = "signature"  # telemetry: authenticated by a signature, so 401 for everyone


def cells(allowed=(), hidden=(), anonymous=DENIED) -> dict[str, str]:
    out = {ANONYMOUS: anonymous}
    for actor in SIGNED_IN:
        out[actor] = ALLOWED if actor in allowed else HIDDEN if actor in hidden else DENIED
    return out


EVERYONE = cells(allowed=SIGNED_IN)
APP_OWNERS = cells(allowed=OWNERS_OR_PLATFORM)
DRAFT_OWNERS = cells(allowed=OWNERS_OR_PLATFORM, hidden=OUTSIDERS)
REFERENCE_DATA = cells(allowed=PLATFORM_TEAM)
SEE_REVIEW = cells(allowed=OWNERS_OR_PLATFORM, hidden=OUTSIDERS)
DECIDE_REVIEW = cells(allowed=(PLATFORM,), hidden=OUTSIDERS)
DECIDE_CONTEST = cells(allowed=(PLATFORM,))
CHARGEBACK = cells(allowed=tuple(a for a in SIGNED_IN if a != NO_TEAM))
SIGNED = dict.fromkeys(ACTORS, SIGNATURE)
# Another user's API token is invisible, except to the platform team.
TOKEN_OWNER = cells(allowed=(OWNER, *PLATFORM_TEAM), hidden=(MEMBER, CO_OWNER, *OUTSIDERS))
# Background imports belong to whoever sent them and their team, not to the apps' co-owners.
IMPORT_JOB = cells(
    allowed=tuple(a for a in OWNERS_OR_PLATFORM if a != CO_OWNER), hidden=(CO_OWNER, *OUTSIDERS)
)
# Moving apps between owners in bulk, and the orphaned apps' new owners: the platform team.
MOVE_APPS = cells(allowed=PLATFORM_TEAM)

# --- the API: operationId -> (the object it is called on, who may) ----------------------------

API = {
    "apps_list": (None, EVERYONE),
    "apps_create": (None, EVERYONE),  # for one's own teams: the body decides (400)
    "apps_retrieve": ("live", EVERYONE),
    "apps_update": ("live", APP_OWNERS),
    "apps_partial_update": ("live", APP_OWNERS),
    "apps_catalog_info": ("live", EVERYONE),
    "apps_contracts_list": ("live", EVERYONE),
    "apps_contracts_create": ("live", APP_OWNERS),
    "apps_contracts_retrieve": ("live", EVERYONE),
    "apps_contracts_document": ("live", EVERYONE),
    "apps_contracts_changelog": ("live", EVERYONE),
    # The dependent named in the body decides (403 unless the caller may edit it).
    "apps_contracts_acknowledge": ("live", EVERYONE),
    # Withdrawing or moving a scheduled version: whoever may upload the app's contracts.
    "apps_contracts_withdraw": ("live", APP_OWNERS),
    "apps_contracts_reschedule": ("live", APP_OWNERS),
    "apps_gate_retrieve": ("live", EVERYONE),
    "apps_impact_retrieve": ("live", EVERYONE),
    "apps_renew_create": ("live", APP_OWNERS),
    "apps_renewals_list": ("live", EVERYONE),
    "apps_observed_calls_retrieve": ("live", EVERYONE),
    "apps_retire_create": ("live", APP_OWNERS),
    "apps_rotate_secret_create": ("live", APP_OWNERS),
    "apps_submit_create": ("draft", DRAFT_OWNERS),
    "apps_import": (None, EVERYONE),
    "apps_transfer": (None, MOVE_APPS),  # an existing app of another team: the body decides
    # The fleet as a catalog file: what the app list shows, to anyone signed in.
    "backstage_entities": (None, EVERYONE),
    "backstage_imports_list": (None, EVERYONE),  # each sees their own and their teams' jobs
    "backstage_imports_retrieve": ("import_job", IMPORT_JOB),
    # Sync sources and their tokens: the platform team only.
    "backstage_sources_list": (None, REFERENCE_DATA),
    "backstage_sources_create": (None, REFERENCE_DATA),
    "backstage_sources_retrieve": ("backstage_source", REFERENCE_DATA),
    "backstage_sources_partial_update": ("backstage_source", REFERENCE_DATA),
    "backstage_sources_sync_create": ("backstage_source", REFERENCE_DATA),
    "chargeback": (None, CHARGEBACK),
    "contracts_check": (None, EVERYONE),
    "policies_list": (None, EVERYONE),
    "policies_evaluate_create": (None, EVERYONE),
    "regions_list": (None, EVERYONE),
    "regions_create": (None, REFERENCE_DATA),
    "regions_retrieve": ("region", EVERYONE),
    "regions_update": ("region", REFERENCE_DATA),
    "regions_partial_update": ("region", REFERENCE_DATA),
    "reviews_list": (None, EVERYONE),  # each sees the reviews of the apps they answer for
    "reviews_retrieve": ("review", SEE_REVIEW),
    "reviews_decide_create": ("review", DECIDE_REVIEW),
    "scorecards_list": (None, EVERYONE),
    "scorecards_cleanup": (None, EVERYONE),
    "scorecards_rubric": (None, EVERYONE),
    "scorecards_teams": (None, EVERYONE),
    "sunset_cases_list": (None, EVERYONE),
    "sunset_cases_retrieve": ("open_case", EVERYONE),
    "sunset_cases_respond_create": ("open_case", APP_OWNERS),
    "sunset_cases_decide_create": ("contested_case", DECIDE_CONTEST),
    "teams_list": (None, EVERYONE),
    "teams_create": (None, REFERENCE_DATA),
    "teams_retrieve": ("team", EVERYONE),
    "teams_update": ("team", REFERENCE_DATA),
    "teams_partial_update": ("team", REFERENCE_DATA),
    # A team's Slack channel and Teams webhook: its lead and the platform team (the matrix's
    # team has no lead).
    "teams_chat_partial_update": ("team", cells(allowed=PLATFORM_TEAM)),
    "telemetry_ingest": (None, SIGNED),
    "tokens_list": (None, EVERYONE),
    "tokens_create": (None, EVERYONE),
    "tokens_revoke_create": ("token", TOKEN_OWNER),
    "me_notification_preferences": (None, EVERYONE),
    "me_notification_preferences_update": (None, EVERYONE),
}


def schema_operations() -> list[tuple[str, str, str]]:
    """(operationId, method, path) of every operation the published schema documents."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (operation["operationId"], method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, operation in methods.items()
    )


OPERATIONS = schema_operations()

# --- pages: URL name -> (the object, who may); every route accepting POST has a row ----------

PAGES_LOGIN = cells(allowed=SIGNED_IN, anonymous=LOGIN)
PAGES = {
    "login": (None, cells(allowed=SIGNED_IN, anonymous=ALLOWED)),
    "logout": (None, cells(allowed=SIGNED_IN, anonymous=ALLOWED)),
    "app-create": (None, PAGES_LOGIN),
    "app-validate": (None, PAGES_LOGIN),
    "app-edit": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "app-edit-validate": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "app-dependencies": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "app-submit": ("draft", cells(OWNERS_OR_PLATFORM, hidden=OUTSIDERS, anonymous=LOGIN)),
    "app-retire": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "app-contract-upload": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    # The dependent named in the form decides (403 unless the caller may edit it).
    "app-contract-acknowledge": ("live", PAGES_LOGIN),
    "app-contract-withdraw": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "app-contract-reschedule": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "review-detail": ("review", cells(allowed=(PLATFORM,), hidden=OUTSIDERS, anonymous=LOGIN)),
    "lifecycle:app-renew": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "lifecycle:app-rotate-secret": ("live", cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    # Declaring an observed call edits the app's dependencies.
    "lifecycle:observed-call-declare": (
        "observed_call",
        cells(allowed=OWNERS_OR_PLATFORM, anonymous=LOGIN),
    ),
    "lifecycle:sunset-respond": ("open_case", cells(OWNERS_OR_PLATFORM, anonymous=LOGIN)),
    "lifecycle:sunset-decide": ("contested_case", cells(allowed=(PLATFORM,), anonymous=LOGIN)),
    "lifecycle:notifications": (None, PAGES_LOGIN),
    "scorecards-compute": (None, cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    # Imports register apps: members of a team and the platform team.
    "backstage-imports": (None, cells(allowed=(*OWNERS_OR_PLATFORM, OTHER_TEAM), anonymous=LOGIN)),
    "api-tokens": (None, PAGES_LOGIN),
    "notification-settings": (None, PAGES_LOGIN),
    "app-transfer": (None, cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "team-lead": ("team", cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "team-chat": ("team", cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "group-mappings": (None, cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "backstage-sources": (None, cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "api-token-revoke": (
        "token",
        cells(
            allowed=(OWNER, *PLATFORM_TEAM),
            hidden=(MEMBER, CO_OWNER, *OUTSIDERS),
            anonymous=LOGIN,
        ),
    ),
    "provisioning-tokens": (None, cells(allowed=PLATFORM_TEAM, anonymous=LOGIN)),
    "provisioning-token-revoke": (
        "provisioning_token",
        cells(allowed=PLATFORM_TEAM, anonymous=LOGIN),
    ),
    # Slack's callbacks answer its signature only (Slack is on in these tests).
    "messaging:slack-interactions": (None, SIGNED),
    # SCIM answers its provisioning token only: a signed-in session is no credential there.
    **{
        f"scim:{name}": ("scim", SIGNED)
        for name in (
            "service-provider-config",
            "resource-types",
            "resource-type",
            "schemas",
            "schema",
            "users",
            "user",
            "groups",
            "group",
            "bulk",
            "me",
        )
    },
}
# Pages that only show things: they answer GET, and a POST to them changes nothing.
READ_ONLY_PAGES = {
    "dashboard",
    "app-list",
    "team-list",
    "team-detail",
    "app-picker",
    "my-apps",
    "review-queue",
    "policy-list",
    "backstage-import-detail",
    "app-detail",
    "app-impact",
    "app-contract-changelog",
    "app-contract-docs",
    "lifecycle:sunset-cases",
    "lifecycle:app-telemetry-status",
    "scorecards",
    "scorecards-cleanup",
    "chargeback",
    "ops",
    "healthz",
    "metrics",
    "favicon",
    "bench-noop",
    # Single sign-on's two legs answer GET only (the provider redirects the browser).
    "oidc_authentication_init",
    "oidc_authentication_callback",
}
NOT_PAGES = ("admin/", "api/")  # the admin has Django's own permissions; the API is above


def page_routes(patterns=None, prefix: str = "", namespace: str = "") -> dict[str, str]:
    """URL name -> route of every page the resolver serves, outside the admin and the API."""
    found = {}
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(NOT_PAGES):
            continue
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            found.update(page_routes(entry.url_patterns, route, inner))
        elif isinstance(entry, URLPattern) and entry.name:
            found[namespace + entry.name] = route
    return found


# --- the world: one object per state an operation needs ----------------------------------------

VERSION = "1.0.0"


@pytest.fixture
def actors(alice, bob, carol, pat, fin, support_tools, field_ops) -> dict:
    pam = add_to_group(UserFactory(username="pam"), PLATFORM_GROUP)
    support_tools.members.add(pam)
    dana = UserFactory(username="dana")
    field_ops.members.add(dana)
    return {
        ANONYMOUS: None,
        OWNER: alice,
        MEMBER: bob,
        CO_OWNER: dana,
        OTHER_TEAM: carol,
        PLATFORM: pat,
        PLATFORM_OWNER: pam,
        FINANCE: fin,
        NO_TEAM: UserFactory(username="nobody"),
    }


def make_app(team, owner, state: str, **fields):
    now = timezone.now()
    if state != AppState.DRAFT:
        fields.setdefault("went_live_at", now - timedelta(days=80))
        fields.setdefault("expires_at", now + timedelta(days=10))  # the renewal window is open
    app = MicroAppFactory(team=team, owner=owner, state=state, **fields)
    app.co_owners.add(*UserFactory._meta.model.objects.filter(username="dana"))
    return app


def build(target: str | None, actors: dict, team):
    """The object an operation is called on, and its path parameters."""
    owner = actors[OWNER]
    if target is None:
        return {}
    if target == "live":
        app = make_app(team, owner, AppState.ACTIVE, slug="live-app", ingestion_secret="whsec_x")
        Contract.objects.create(
            app=app,
            kind="openapi",
            version=VERSION,
            sha256="0" * 64,
            document={"openapi": "3.1.0", "info": {"title": "Live", "version": "1"}, "paths": {}},
        )
        return {"slug": app.slug, "version": VERSION}
    if target == "observed_call":  # the live app and an app it may have been seen calling
        return {**build("live", actors, team), "callee": "called-app"}
    if target == "draft":
        return {"slug": make_app(team, owner, AppState.DRAFT, slug="draft-app").slug}
    if target == "review":
        high_risk = {"handles_pii": True, "data_residency": "EU"}
        app = make_app(team, owner, AppState.IN_REVIEW, slug="reviewed-app", **high_risk)
        review = Review.objects.create(app=app, due_at=timezone.now() + timedelta(hours=48))
        return {"id": review.pk, "pk": review.pk}
    if target in ("open_case", "contested_case"):
        app = make_app(team, owner, AppState.SUNSETTING, slug="fading-app")
        case = SunsetCase.objects.create(
            app=app,
            reason=SunsetReason.LOW_USAGE,
            grace_ends_at=timezone.now() + timedelta(days=14),
            figures={"requests": 3, "threshold": 100, "days": 90},
        )
        if target == "contested_case":
            case.response = SunsetResponse.CONTEST
            case.justification = "Still used every quarter by the audit team."
            case.responded_by = owner
            case.responded_at = timezone.now()
            case.save()
        return {"id": case.pk, "pk": case.pk}
    if target == "import_job":  # alice's background import, made for the apps' team
        job = ImportJob.objects.create(created_by=owner, team=team, total=1)
        return {"id": job.pk, "pk": job.pk}
    if target == "team":
        return {"slug": team.slug}
    if target == "token":
        token, _ = tokens.issue(user=owner, name="owner's script")
        return {"id": token.pk, "pk": token.pk}
    if target == "provisioning_token":
        token, _ = provisioning_tokens.issue(name="Okta", actor=None)
        return {"pk": token.pk}
    if target == "scim":  # one of each path parameter the SCIM routes take
        return {"pk": owner.pk, "name": "User", "uri": "urn:ietf:params:scim:schemas:core:2.0:User"}
    if target == "backstage_source":
        source = BackstageSource.objects.create(
            name="Main catalog", url="https://backstage.example.com/catalog.yaml", created_by=owner
        )
        return {"id": source.pk, "pk": source.pk}
    if target == "region":
        return {"code": RegionFactory(code="eu-central").code}
    raise AssertionError(f"no builder for {target!r}")


def api_client(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def assert_outcome(expected: str, response, *, anonymous: bool, page: bool = False) -> None:
    code = response.status_code
    where = f"{response.request['REQUEST_METHOD']} {response.request['PATH_INFO']}"
    detail = f"{where} answered {code} where {expected} was expected"
    if expected == ALLOWED:
        assert code < 400 or code in (400, 409, 422), detail
    elif expected == DENIED:
        assert code == (401 if anonymous and not page else 403), detail
    elif expected == HIDDEN:
        assert code == 404, detail
    elif expected == LOGIN:
        assert code == 302 and response["Location"].startswith(reverse("login")), detail
    elif expected == SIGNATURE:
        assert code == 401, detail
    else:
        raise AssertionError(f"unknown outcome {expected!r}")


# --- the tables cover everything ------------------------------------------------------------


def test_every_api_operation_has_a_row():
    documented = {operation_id for operation_id, _, _ in OPERATIONS}
    assert sorted(documented - API.keys()) == [], "add these operations to API"
    assert sorted(API.keys() - documented) == [], "these rows name no operation any more"
    for operation_id, (_, expected) in API.items():
        assert expected.keys() == set(ACTORS), operation_id


def test_every_page_route_is_classified():
    routes = page_routes()
    unclassified = routes.keys() - PAGES.keys() - READ_ONLY_PAGES
    assert sorted(unclassified) == [], "add these routes to PAGES (POST) or READ_ONLY_PAGES"
    assert sorted(PAGES.keys() - routes.keys()) == [], "these rows name no route any more"
    assert PAGES.keys().isdisjoint(READ_ONLY_PAGES)


# --- the matrix ---------------------------------------------------------------------------------


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize(
    ("operation_id", "method", "path"), OPERATIONS, ids=[op for op, _, _ in OPERATIONS]
)
def test_api(operation_id, method, path, actor, actors, support_tools):
    target, expected = API[operation_id]
    params = build(target, actors, support_tools)
    url = re.sub(r"\{(\w+)\}", lambda m: str(params[m.group(1)]), path)
    response = api_client(actors[actor]).generic(method, url)
    assert_outcome(expected[actor], response, anonymous=actor == ANONYMOUS)


@pytest.mark.parametrize("actor", ACTORS)
@pytest.mark.parametrize("name", sorted(PAGES))
def test_page_post(name, actor, actors, support_tools, client, settings):
    settings.SLACK_SIGNING_SECRET = "matrix-signing-secret"  # Slack on: its endpoint exists
    target, expected = PAGES[name]
    params = build(target, actors, support_tools)
    route = page_routes()[name]
    kwargs = {k: params[k] for k in re.findall(r"<(?:\w+:)?(\w+)>", route)}
    if actors[actor] is not None:
        client.force_login(actors[actor])
    response = client.post(reverse(name, kwargs=kwargs))
    assert_outcome(expected[actor], response, anonymous=actor == ANONYMOUS, page=True)


# --- drafts look like nothing at all to outsiders ---------------------------------------------

DRAFT_READS = [
    (op, path)
    for op, method, path in OPERATIONS
    if method == "GET" and path.startswith("/api/v1/apps/{slug}/")
]


@pytest.mark.parametrize("actor", OUTSIDERS)
@pytest.mark.parametrize(("operation_id", "path"), DRAFT_READS, ids=[o for o, _ in DRAFT_READS])
def test_a_draft_answers_like_an_app_that_does_not_exist(
    operation_id, path, actor, actors, support_tools
):
    client = api_client(actors[actor])
    build("draft", actors, support_tools)

    def get(slug):
        response = client.get(path.replace("{slug}", slug).replace("{version}", VERSION))
        return response.status_code, response.content.replace(slug.encode(), b"<slug>")

    assert get("draft-app") == get("no-such-app")
    assert get("draft-app")[0] == 404


def test_owners_of_a_draft_do_see_it(actors, support_tools):
    build("draft", actors, support_tools)
    for actor in OWNERS_OR_PLATFORM:
        assert api_client(actors[actor]).get("/api/v1/apps/draft-app/").status_code == 200


def test_an_anonymous_user_object_is_refused_like_no_user(actors, support_tools):
    from catalog import permissions
    from catalog.models import MicroApp

    build("live", actors, support_tools)
    app = MicroApp.objects.get(slug="live-app")
    assert not any(check(AnonymousUser(), app) for check in permissions.APP_ACTIONS.values())
