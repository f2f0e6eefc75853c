"""Authorization matrix and invisible drafts.

The matrix calls every operation of the published schema and every page as every role, on
apps of the caller's own team, of another team, and on a draft; what each role may do is
asked of ``catalog.permissions`` with the same user and app. A refusal must be 401/403 (or
404 where the object is invisible, or the sign-in redirect for an anonymous page visit),
never a 200 and never a 5xx.
"""

from __future__ import annotations

import inspect
import json
import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from drf_spectacular.generators import SchemaGenerator

from catalog import permissions
from catalog.models import Contract, MicroApp, Team
from tests.attack.report import Report
from tests.attack.world import ROLES, World

MATRIX = "authorization matrix"
DRAFTS = "invisible drafts"

# operationId -> (the object it is called on, the catalog.permissions predicate)
API_RULES: dict[str, tuple[str | None, str]] = {
    "apps_list": (None, "is_signed_in"),
    "apps_transfer": (None, "can_transfer_apps"),
    "apps_create": (None, "is_signed_in"),
    "apps_import": (None, "is_signed_in"),
    "apps_retrieve": ("app", "can_view_app"),
    "apps_update": ("app", "can_edit"),
    "apps_partial_update": ("app", "can_edit"),
    "apps_catalog_info": ("app", "can_view_app"),
    "apps_contracts_list": ("app", "can_view_app"),
    "apps_contracts_create": ("app", "can_upload_contract"),
    "apps_contracts_retrieve": ("app", "can_view_app"),
    "apps_contracts_document": ("app", "can_view_app"),
    "apps_contracts_changelog": ("app", "can_view_app"),
    # Whoever sees the provider gets to the body, which names the dependent (403 unless
    # the caller may edit it).
    "apps_contracts_acknowledge": ("app", "can_view_app"),
    "apps_contracts_withdraw": ("app", "can_upload_contract"),
    "apps_contracts_reschedule": ("app", "can_upload_contract"),
    "apps_gate_retrieve": ("app", "can_view_app"),
    "apps_impact_retrieve": ("app", "can_view_app"),
    "apps_renew_create": ("app", "can_renew"),
    "apps_renewals_list": ("app", "can_view_app"),
    "apps_observed_calls_retrieve": ("app", "can_view_app"),
    "apps_retire_create": ("app", "can_retire"),
    "apps_rotate_secret_create": ("app", "can_rotate_secret"),
    "apps_submit_create": ("app", "can_submit"),
    "chargeback": (None, "can_see_chargeback"),
    "contracts_check": (None, "is_signed_in"),
    "policies_list": (None, "is_signed_in"),
    "policies_evaluate_create": (None, "is_signed_in"),
    "regions_list": (None, "is_signed_in"),
    "regions_create": (None, "can_manage_reference_data"),
    "regions_retrieve": ("region", "is_signed_in"),
    "regions_update": ("region", "can_manage_reference_data"),
    "regions_partial_update": ("region", "can_manage_reference_data"),
    "reviews_list": (None, "is_signed_in"),
    "reviews_retrieve": ("review", "can_view_review"),
    "reviews_decide_create": ("review", "can_decide_review"),
    "scorecards_list": (None, "is_signed_in"),
    "scorecards_cleanup": (None, "is_signed_in"),
    "scorecards_rubric": (None, "is_signed_in"),
    "scorecards_teams": (None, "is_signed_in"),
    "sunset_cases_list": (None, "is_signed_in"),
    "sunset_cases_retrieve": ("open_case", "can_view_app"),
    "sunset_cases_respond_create": ("open_case", "can_respond_sunset"),
    "sunset_cases_decide_create": ("contested_case", "can_decide_sunset"),
    "teams_list": (None, "is_signed_in"),
    "teams_create": (None, "can_manage_reference_data"),
    "teams_retrieve": ("team", "is_signed_in"),
    "teams_update": ("team", "can_manage_reference_data"),
    "teams_partial_update": ("team", "can_manage_reference_data"),
    "teams_chat_partial_update": ("team", "can_edit_team_chat"),
    # Background imports and API tokens: the demo fleet holds none, so only their lists
    # are called until _objects builds one.
    "backstage_entities": (None, "is_signed_in"),
    "backstage_imports_list": (None, "is_signed_in"),
    "backstage_imports_retrieve": ("import_job", "is_signed_in"),
    # Sync sources: the platform team's; the demo fleet holds none, so only the list and
    # create are called.
    "backstage_sources_list": (None, "can_manage_backstage_sources"),
    "backstage_sources_create": (None, "can_manage_backstage_sources"),
    "backstage_sources_retrieve": ("backstage_source", "can_manage_backstage_sources"),
    "backstage_sources_partial_update": ("backstage_source", "can_manage_backstage_sources"),
    "backstage_sources_sync_create": ("backstage_source", "can_manage_backstage_sources"),
    "tokens_list": (None, "is_signed_in"),
    "tokens_create": (None, "is_signed_in"),
    "tokens_revoke_create": ("token", "is_signed_in"),
    # Anyone signed in, on their own preferences only (there is no one else's to name).
    "me_notification_preferences": (None, "is_signed_in"),
    "me_notification_preferences_update": (None, "is_signed_in"),
}
# Writes that change who may see an app when allowed (a submitted draft is a draft no
# more): sent after every other request, whose expectations were read before.
LAST = {"apps_submit_create"}


def operations() -> list[tuple[str, str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return sorted(
        (op["operationId"], method.upper(), path)
        for path, methods in schema["paths"].items()
        for method, op in methods.items()
    )


def outcome(role: str, allowed: bool, visible: bool, *, page: bool = False) -> str:
    if allowed:
        return "allow"
    if role == "anonymous":
        return "login" if page else "unauthenticated"
    return "deny" if visible else "hidden"


def held(expected: str, status: int, location: str = "") -> bool:
    if status >= 500:
        return False
    if expected == "allow":
        return status not in (401, 403, 404) and not (300 <= status < 400 and "login" in location)
    if expected == "unauthenticated":
        return status in (401, 403)
    if expected == "login":
        return status == 302 and location.startswith("/login/")
    if expected == "admin-login":
        return status == 302 and location.startswith("/admin/login/")
    if expected == "deny":
        return status == 403
    return status == 404  # hidden: exactly like an object that does not exist


def _objects(world: World) -> list[tuple[str, dict, MicroApp | None, object]]:
    """(label, path parameters, app, object) for each object the operations run on."""
    own, own_version = world.live_with_contract("support-tools")
    other, other_version = world.live_with_contract("field-ops")
    draft = world.app(state="draft", team="support-tools")
    draft_version = (
        Contract.objects.filter(app=draft).values_list("version", flat=True).first() or "1.0.0"
    )
    review = world.open_review("support-tools")
    open_case = world.sunset_case(contested=False)
    contested = world.sunset_case(contested=True)
    return [
        ("own-team app", {"slug": own.slug, "version": own_version}, own, None),
        ("other-team app", {"slug": other.slug, "version": other_version}, other, None),
        ("draft", {"slug": draft.slug, "version": draft_version}, draft, None),
        ("review", {"id": str(review.pk)}, review.app, review),
        ("open_case", {"id": str(open_case.pk)}, open_case.app, open_case),
        ("contested_case", {"id": str(contested.pk)}, contested.app, contested),
        # Its lead (carol in the demo) may set its chat channels: the predicate is asked
        # about the team itself.
        ("team", {"slug": "field-ops"}, None, Team.objects.get(slug="field-ops")),
        ("region", {"code": "eu-central"}, None, None),
    ]


def _asks_about_object(predicate: str) -> bool:
    """Whether the permission takes the object (a team) besides the user."""
    return len(inspect.signature(getattr(permissions, predicate)).parameters) > 1


def _has_version(app: MicroApp | None, params: dict) -> bool:
    return Contract.objects.filter(app=app, version=params.get("version")).exists()


SLACK_INTERACTIONS = "/integrations/slack/interactions/"


def run_slack_interactions(world: World, report: Report) -> None:
    """Slack's callbacks are signed by Slack, not by a user: a session, an API token, or a
    made-up signature gets 401 (404 where the installation has Slack off)."""
    expected = 401 if settings.SLACK_SIGNING_SECRET else 404
    body = {"payload": json.dumps({"type": "block_actions", "actions": [{"action_id": "renew"}]})}
    forged = {
        "X-Slack-Request-Timestamp": str(int(time.time())),
        "X-Slack-Signature": "v0=" + "0" * 64,
    }
    for role in ROLES:
        for how, client, headers in (
            ("session", world.session(role), {}),
            ("token", world.api(role), {}),
            ("forged signature", world.api(role), forged),
        ):
            answer = client.post(SLACK_INTERACTIONS, body, form=True, headers=headers)
            report.check(
                MATRIX,
                f"{role} POST {SLACK_INTERACTIONS} ({how})",
                answer.status == expected,
                f"expected {expected}, answered {answer.status}",
            )


def run_matrix(world: World, report: Report) -> None:
    objects = _objects(world)
    run_slack_interactions(world, report)
    jobs: list[tuple[str, str, Callable]] = []
    last: list[tuple[str, str, Callable]] = []
    for operation_id, method, path in operations():
        if operation_id == "telemetry_ingest":
            for role in ROLES:  # signed by the app, not by a user: unsigned is 401 for all
                answer = world.api(role).post(path, {"app": "x", "reports": []})
                report.check(
                    MATRIX,
                    f"{role} {method} {path} unsigned",
                    answer.status == 401,
                    f"answered {answer.status}",
                )
            continue
        if operation_id not in API_RULES:
            report.check(
                MATRIX,
                f"{operation_id} is classified",
                False,
                "a new operation: add it to tests/attack/access.py API_RULES",
            )
            continue
        kind, predicate = API_RULES[operation_id]
        for label, params, app, obj in objects:
            if kind is None and label != "own-team app":
                continue
            if kind == "app" and label not in ("own-team app", "other-team app", "draft"):
                continue
            if kind not in (None, "app") and label != kind:
                continue
            if "{version}" in path and not _has_version(app, params):
                continue  # no contract to read: the invisible-drafts checks cover the 404
            url = re.sub(r"\{(\w+)\}", lambda m, params=params: params[m.group(1)], path)
            body: dict = {}
            for role in ROLES:
                fresh = world.fresh(app.slug) if app is not None else None
                if kind in (None, "team", "region"):
                    about = obj if _asks_about_object(predicate) else None
                    visible, allowed = True, world.may(role, predicate, about)
                elif kind == "review":
                    visible = world.may(role, "can_view_review", obj)
                    allowed = visible and (
                        predicate == "can_view_review" or world.may(role, predicate, fresh)
                    )
                else:
                    visible = world.sees(role, fresh)
                    allowed = visible and world.may(role, predicate, fresh)
                expected = outcome(role, allowed, visible)
                (last if operation_id in LAST else jobs).append(
                    (
                        f"{role} {method} {url} ({label})",
                        expected,
                        lambda role=role, method=method, url=url, body=body: world.api(
                            role
                        ).request(method, url, None if method in ("GET", "DELETE") else body),
                    )
                )
    jobs += page_jobs(world, objects)
    run_jobs(world, report, jobs)
    # One at a time, the refused ones first: an allowed submit changes who sees the draft.
    last.sort(key=lambda job: job[1] == "allow")
    run_jobs(world, report, last, workers=1)


def run_jobs(
    world: World, report: Report, jobs: list[tuple[str, str, Callable]], workers: int = 4
) -> None:
    """Send the requests four at a time (the server has two workers; the runner's own
    share of the work overlaps theirs), and record them in their listed order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        answers = list(pool.map(lambda job: job[2](), jobs))
    for (name, expected, _), answer in zip(jobs, answers, strict=True):
        if answer.status < 300 and "whsec_" in answer.text:
            for value in re.findall(r"whsec_[A-Za-z0-9+/=]+", answer.text):
                world.secret(value)
        report.check(
            MATRIX,
            name,
            held(expected, answer.status, answer.header("Location")),
            f"expected {expected}, answered {answer.status} {answer.text[:120]}",
        )


def page_jobs(world: World, objects) -> list[tuple[str, str, Callable]]:
    jobs: list[tuple[str, str, Callable]] = []
    own, other, draft = objects[0], objects[1], objects[2]
    review = objects[3]
    pages: list[tuple[str, str, MicroApp | None, object]] = [
        (path, "is_signed_in", None, None)
        for path in (
            "/",
            "/apps/",
            "/me/apps/",
            "/reviews/",
            "/policies/",
            "/sunset-cases/",
            "/me/notifications/",
            "/me/notifications/settings/",
            "/scorecards/",
            "/scorecards/cleanup/",
        )
    ]
    pages += [
        ("/chargeback/", "can_see_chargeback", None, None),
        ("/ops/", "can_see_ops", None, None),
        ("/settings/provisioning/", "can_manage_provisioning", None, None),
        ("/teams/", "can_view_teams", None, None),
        (f"/teams/{own[2].team.slug}/", "can_view_teams", None, None),
    ]
    for _, params, app, _ in (own, other, draft):
        slug, version = params["slug"], params["version"]
        pages += [
            (f"/apps/{slug}/", "can_view_app", app, None),
            (f"/apps/{slug}/edit/", "can_edit", app, None),
            (f"/apps/{slug}/retire/", "can_retire", app, None),
        ]
        if Contract.objects.filter(app=app).count() >= 2:  # a changelog needs two versions
            pages.append((f"/apps/{slug}/contracts/changelog/", "can_view_app", app, None))
        if Contract.objects.filter(app=app, version=version).exists():
            pages.append((f"/apps/{slug}/contracts/{version}/", "can_view_app", app, None))
    pages.append((f"/reviews/{review[1]['id']}/", "can_view_review", review[2], review[3]))
    for path, predicate, app, obj in pages:
        for role in ROLES:
            client = world.session(role)
            if predicate == "can_view_review":
                visible = world.may(role, predicate, obj)
                allowed = visible
            elif app is not None:
                fresh = world.fresh(app.slug)
                visible = world.sees(role, fresh)
                allowed = visible and world.may(role, predicate, fresh)
            else:
                visible, allowed = True, world.may(role, predicate)
            expected = outcome(role, allowed, visible, page=True)
            jobs.append(
                (
                    f"{role} GET {path}",
                    expected,
                    lambda client=client, path=path: client.get(path, token=False),
                )
            )
    for role in ROLES:  # the admin lets staff in, and sends anyone else to its own sign-in
        user = world.users[role]
        staff = user is not None and user.is_staff
        jobs.append(
            (
                f"{role} GET /admin/",
                "allow" if staff else "admin-login",
                lambda role=role: world.session(role).get("/admin/", token=False),
            )
        )
    return jobs


# --- drafts ------------------------------------------------------------------------------------

MISSING = "no-such-app-x"
CSRF_TOKEN = re.compile(r"[A-Za-z0-9]{64}")


def _norm(answer, names: list[str]) -> tuple[int, str]:
    text = answer.text
    for name in names:
        text = text.replace(name, "<ref>")
    # Masked CSRF tokens differ on every render by design (BREACH).
    return answer.status, CSRF_TOKEN.sub("<csrf>", text)


def _first_difference(a: str, b: str) -> str:
    for left, right in zip(a.splitlines(), b.splitlines(), strict=False):
        if left != right:
            return f"{left.strip()[:120]!r} vs {right.strip()[:120]!r}"
    return "lengths differ"


def run_drafts(world: World, report: Report) -> None:
    draft = world.app(state="draft", team="support-tools")
    slug, pk = draft.slug, str(draft.pk)
    missing_pk = str(MicroApp.objects.order_by("-pk").values_list("pk", flat=True)[0] + 10_000)
    gets = [p for op, m, p in operations() if m == "GET" and p.startswith("/api/v1/apps/{slug}")]
    for role in ("carol", "fin"):
        _draft_checks(world, report, role, (slug, pk), (MISSING, missing_pk), gets)


def _draft_checks(world: World, report: Report, role: str, draft, missing, gets) -> None:
    """One outsider asks everything about the draft, and the same of a missing slug."""
    slug, pk = draft
    api, page = world.api(role), world.session(role)

    def compare(name: str, call, *, by_id: bool = False) -> None:
        a, b = call(*draft), call(*missing)
        # Only where the id was sent is it replaced: "7" would otherwise match any digit.
        names = (list(draft), list(missing)) if by_id else ([slug], [missing[0]])
        (status_a, text_a), (status_b, text_b) = _norm(a, names[0]), _norm(b, names[1])
        report.check(
            DRAFTS,
            f"{role}: {name}",
            (status_a, text_a) == (status_b, text_b) and a.status < 500,
            f"draft {status_a}, missing {status_b}: {_first_difference(text_a, text_b)}",
        )

    for path in gets:
        compare(
            f"GET {path}",
            lambda s, _pk, path=path: api.get(
                path.replace("{slug}", s).replace("{version}", "1.0.0")
            ),
        )
    for suffix in ("", "edit/", "contracts/changelog/", "contracts/1.0.0/"):
        compare(
            f"page /apps/<draft>/{suffix}",
            lambda s, _pk, suffix=suffix: page.get(f"/apps/{s}/{suffix}", token=False),
        )
    for suffix, body in (
        ("renew/", {"justification": "x" * 30}),
        ("retire/", {"reason": "gone now"}),
        ("submit/", {}),
        ("rotate-secret/", {}),
        ("contracts/", {"spec": {}}),
    ):
        compare(
            f"POST /api/v1/apps/<draft>/{suffix}",
            lambda s, _pk, suffix=suffix, body=body: api.post(f"/api/v1/apps/{s}/{suffix}", body),
        )
    compare(
        "PATCH /api/v1/apps/<draft>/",
        lambda s, _pk: api.request("PATCH", f"/api/v1/apps/{s}/", {"name": "x"}),
    )
    for listing in ("reviews", "sunset-cases", "scorecards"):
        compare(
            f"/api/v1/{listing}/?app=<draft>",
            lambda s, _pk, listing=listing: api.get(f"/api/v1/{listing}/?app={s}"),
        )
    for listing in ("reviews", "sunset-cases"):
        compare(
            f"/api/v1/{listing}/?app_id=<draft id>",
            lambda s, p, listing=listing: api.get(f"/api/v1/{listing}/?app_id={p}"),
            by_id=True,
        )
    team = "field-ops" if role == "carol" else "support-tools"
    compare(
        "depends_on in a registration",
        lambda s, _pk: api.post(
            "/api/v1/apps/",
            {
                "slug": "probe-app",
                "name": "Probe",
                "kind": "integration",
                "team": team,
                "environment": "staging",
                "depends_on": [s],
            },
        ),
    )
    compare(
        "policies/evaluate {app: <draft>}",
        lambda s, _pk: api.post("/api/v1/policies/evaluate/", {"app": s, "changes": {}}),
    )
    compare(
        "Backstage dependsOn",
        lambda s, _pk: api.post(
            "/api/v1/apps/import/?dry_run=true",
            _backstage(team, s),
            content_type="application/yaml",
        ),
    )
    compare(
        "app-list filter ?q=<draft>", lambda s, _pk: api.get(f"/api/v1/apps/?q={s}&fields=slug")
    )


def _backstage(team: str, depends_on: str) -> str:
    return json.dumps(
        {
            "apiVersion": "backstage.io/v1alpha1",
            "kind": "Component",
            "metadata": {"name": "probe-app"},
            "spec": {
                "type": "service",
                "lifecycle": "experimental",
                "owner": team,
                "dependsOn": [f"component:{depends_on}"],
            },
        }
    )
