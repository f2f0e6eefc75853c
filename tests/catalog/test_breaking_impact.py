"""Breaking contract versions put their dependents first: the impact is shown before the
upload, touched dependents get a migration window (or a platform override) and one notice
each, the version takes effect when its window ends, and dependents acknowledge it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

from catalog import policies
from catalog.breaking_services import contracts_take_effect
from catalog.models import AuditEvent, Contract, ContractAcknowledgement, Dependency, Notification
from catalog.selectors import latest_contract
from catalog.tasks import activate_scheduled_contracts
from tests.catalog.test_contracts_api import PETSTORE_V1, v2_breaking
from tests.factories import MicroAppFactory, UserFactory

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
UPLOAD = "/api/v1/apps/pets/contracts/"


def link(dependent, provider, **details):
    return Dependency.objects.create(from_microapp=dependent, to_microapp=provider, **details)


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def pets(alice, support_tools):
    app = MicroAppFactory(slug="pets", name="Pets", team=support_tools, owner=alice, state="active")
    Contract.objects.create(
        app=app,
        kind="openapi",
        version="1.0.0",
        document=PETSTORE_V1,
        sha256="v1",
        spec_version="3.0.3",
        created_at=NOW - timedelta(days=60),
    )
    return app


@pytest.fixture
def fleet(pets, carol, field_ops, bob, support_tools):
    """portal calls GET /pets/{id}; adopt declared POST /pets only; intake declared nothing;
    kiosk calls portal; a draft calls pets and does not count."""
    apps = {
        "portal": MicroAppFactory(
            slug="portal", name="Portal", team=field_ops, owner=carol, state="active"
        ),
        "adopt": MicroAppFactory(
            slug="adopt", name="Adopt", team=support_tools, owner=bob, state="active"
        ),
        "intake": MicroAppFactory(
            slug="intake", name="Intake", team=field_ops, owner=carol, state="expired"
        ),
        "kiosk": MicroAppFactory(slug="kiosk", name="Kiosk", team=field_ops, state="active"),
        "sketch": MicroAppFactory(slug="sketch", name="Sketch", team=field_ops, state="draft"),
    }
    link(apps["portal"], pets, uses=["GET /pets/{id}"])
    link(apps["adopt"], pets, uses=["POST /pets"])
    link(apps["intake"], pets)
    link(apps["kiosk"], apps["portal"])
    link(apps["sketch"], pets)
    return apps


def later(days=30, hours=0):
    return (NOW + timedelta(days=days, hours=hours)).isoformat()


# --- the check and the upload answer show the impact ---------------------------------------


def test_the_ci_check_lists_every_live_dependent_and_what_touches_each(
    api_as, alice, fleet, django_assert_max_num_queries
):
    with django_assert_max_num_queries(10):
        answer = api_as(alice).post(
            "/api/v1/contracts/check/", {"app": "pets", "spec": v2_breaking()}, format="json"
        )
    assert answer.status_code == 200, answer.json()
    impact = answer.json()["impact"]
    assert impact["summary"] == {
        "dependents": 4,
        "direct": 3,
        "touched": 2,
        "not_touched": 1,
        "at_risk": 3,
        "breaking_changes": 2,
    }
    assert impact["needs_notice"] is True and impact["notice_days"] == 30
    rows = {row["slug"]: row for row in impact["dependents"]}
    assert list(rows) == ["adopt", "intake", "portal", "kiosk"]  # nearest first, by name
    portal = rows["portal"]
    assert portal["owner"] == "carol" and portal["team"]["slug"] == "field-ops"
    assert portal["uses_declared"] and portal["touched"] and portal["notified"]
    assert [c["operation"] for c in portal["touching_changes"]] == ["GET"]
    assert portal["touching_changes"][0]["path"] == "/pets/{id}"
    assert rows["intake"]["uses_declared"] is False and rows["intake"]["touching_count"] == 2
    assert "every breaking change counts" in rows["intake"]["reason"]
    adopt = rows["adopt"]
    assert adopt["touched"] is False and adopt["notified"] is False
    assert "no notice" in adopt["reason"]
    kiosk = rows["kiosk"]
    assert (kiosk["depth"], kiosk["via"], kiosk["touched"], kiosk["at_risk"]) == (
        2,
        "portal",
        None,
        True,
    )
    assert not Contract.objects.filter(version="2.0.0").exists()


def test_the_check_of_the_query_budget_does_not_grow_with_the_dependents(
    api_as, alice, pets, django_assert_max_num_queries
):
    for n in range(40):
        link(MicroAppFactory(slug=f"caller-{n}", state="active"), pets, uses=["GET /pets"])
    with django_assert_max_num_queries(10):
        answer = api_as(alice).post(
            "/api/v1/contracts/check/", {"app": "pets", "spec": v2_breaking()}, format="json"
        )
    assert answer.json()["impact"]["summary"]["touched"] == 40


# --- the migration window ------------------------------------------------------------------


def test_breaking_changes_touching_live_dependents_are_refused_without_a_window(
    api_as, alice, fleet
):
    answer = api_as(alice).post(UPLOAD, {"spec": v2_breaking()}, format="json")
    assert answer.status_code == 422
    body = answer.json()
    assert body["code"] == "breaking_needs_notice"
    assert "at least 30 days" in body["effective_at"][0]
    assert "2 breaking changes touch 2 live dependents" in body["effective_at"][0]
    assert body["impact"]["summary"]["touched"] == 2
    too_soon = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=29)}, format="json"
    )
    assert too_soon.status_code == 422
    assert Contract.objects.count() == 1
    assert not Notification.objects.exists()
    assert not AuditEvent.objects.filter(action="contract_uploaded").exists()


def test_a_past_effective_at_is_a_field_error(api_as, alice, fleet):
    answer = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=-1)}, format="json"
    )
    assert answer.status_code == 400
    assert "future" in answer.json()["effective_at"][0]


def test_without_live_dependents_touched_a_breaking_version_is_current_at_once(api_as, alice, pets):
    adopt = MicroAppFactory(slug="adopt", state="active")
    link(adopt, pets, uses=["POST /pets"])
    answer = api_as(alice).post(UPLOAD, {"spec": v2_breaking()}, format="json")
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "effective" and answer.json()["effective_at"] is None
    assert answer.json()["impact"]["summary"]["not_touched"] == 1
    assert latest_contract(app=pets).version == "2.0.0"
    assert not Notification.objects.exists()


def test_a_scheduled_version_waits_notifies_once_and_takes_effect_when_its_window_ends(
    api_as, alice, carol, fleet, pets, frozen, django_assert_max_num_queries
):
    with django_assert_max_num_queries(40):
        answer = api_as(alice).post(
            UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
        )
    assert answer.status_code == 201, answer.json()
    body = answer.json()
    assert body["status"] == "scheduled"
    assert body["impact"]["summary"]["touched"] == 2
    v2 = Contract.objects.get(version="2.0.0")
    # Not current yet: the app page, policies and scorecards still read 1.0.0.
    assert latest_contract(app=pets).version == "1.0.0"
    assert latest_contract(app=pets, include_scheduled=True) == v2
    # One notice per touched dependent's owner (carol owns both portal and intake).
    notes = Notification.objects.filter(kind="contract_breaking").order_by("app__slug")
    assert [(n.app.slug, n.recipient.username) for n in notes] == [
        ("intake", "carol"),
        ("portal", "carol"),
    ]
    portal_note = notes[1]
    assert "api-path-removed" in portal_note.body and "request-parameter" not in portal_note.body
    assert "1 Apr 2026" in portal_note.body
    assert portal_note.link == "/apps/pets/contracts/2.0.0/?dependent=portal#acknowledgements"
    event = AuditEvent.objects.get(action="contract_uploaded", app=pets)
    assert event.data["dependents_touched"] == ["intake", "portal"]

    assert activate_scheduled_contracts() == 0  # not yet
    frozen.move_to(NOW + timedelta(days=30, minutes=5))
    assert latest_contract(app=pets) == v2
    with django_assert_max_num_queries(8):
        assert activate_scheduled_contracts() == 1
    assert activate_scheduled_contracts() == 0  # run twice = once
    assert AuditEvent.objects.filter(action="contract_effective", app=pets).count() == 1
    live = Notification.objects.filter(kind="contract_effective")
    assert sorted(n.app.slug for n in live) == ["intake", "portal"]
    v2.refresh_from_db()
    assert v2.status == "effective" and v2.took_effect_recorded_at is not None


def test_taking_effect_costs_the_same_queries_for_one_version_or_many(
    fleet, pets, frozen, django_assert_num_queries
):
    def schedule(app, n):
        return Contract.objects.create(
            app=app,
            kind="openapi",
            version=f"9.{n}",
            sha256=f"s{n}",
            document=v2_breaking(),
            breaking=True,
            changes=[{"level": "ERR", "id": "x", "message": "m", "operation": "", "path": ""}],
            effective_at=NOW + timedelta(hours=1),
        )

    schedule(pets, 0)
    frozen.move_to(NOW + timedelta(hours=2))
    # The claim, the mark, the audit events, the callers, the recipients' preferences, the
    # notices (and a savepoint).
    with django_assert_num_queries(8) as one:
        assert contracts_take_effect() == 1
    for n in range(1, 6):
        provider = MicroAppFactory(state="active")
        link(MicroAppFactory(state="active"), provider)
        schedule(provider, n)
    with django_assert_num_queries(len(one.captured_queries)):
        assert contracts_take_effect() == 5


def test_a_new_upload_is_diffed_against_the_scheduled_version_and_never_takes_effect_first(
    api_as, alice, fleet, pets
):
    api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
    )
    v3 = v2_breaking()
    v3["info"]["version"] = "2.1.0"
    v3["paths"]["/pets"]["get"]["responses"]["201"] = {"description": "also"}
    answer = api_as(alice).post(UPLOAD, {"spec": v3}, format="json")
    assert answer.status_code == 201, answer.json()
    stored = Contract.objects.get(version="2.1.0")
    assert not stored.breaking  # v2's breaking changes are not reported a second time
    assert stored.effective_at == NOW + timedelta(days=30)
    assert latest_contract(app=pets).version == "1.0.0"


def test_only_the_platform_team_overrides_the_window_with_a_reason(api_as, alice, pat, fleet, pets):
    refused = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "override_reason": "Security fix"}, format="json"
    )
    assert refused.status_code == 403
    assert "Only the platform team" in refused.json()["detail"]
    answer = api_as(pat).post(
        UPLOAD,
        {"spec": v2_breaking(), "override_reason": "CVE fix: the id route leaked data"},
        format="json",
    )
    assert answer.status_code == 201, answer.json()
    assert answer.json()["status"] == "effective"
    assert answer.json()["override_reason"] == "CVE fix: the id route leaked data"
    assert latest_contract(app=pets).version == "2.0.0"
    note = Notification.objects.get(kind="contract_breaking", app__slug="portal")
    assert "overrode the migration window (CVE fix" in note.body
    event = AuditEvent.objects.get(action="contract_uploaded", app=pets)
    assert event.data["override_reason"] == "CVE fix: the id route leaked data"


def test_the_same_breaking_version_uploaded_again_notifies_nobody_twice(api_as, alice, fleet):
    body = {"spec": v2_breaking(), "effective_at": later(days=31)}
    assert api_as(alice).post(UPLOAD, body, format="json").status_code == 201
    again = api_as(alice).post(UPLOAD, body, format="json")
    assert again.status_code == 200 and again.json()["created"] is False
    assert Notification.objects.filter(kind="contract_breaking").count() == 2


# --- the policy rule -----------------------------------------------------------------------


def test_the_rule_is_listed_and_ci_evaluates_a_candidate_s_facts(api_as, alice, fleet):
    client = api_as(alice)
    rules = {r["id"]: r for r in client.get("/api/v1/policies/").json()}
    assert rules["breaking-needs-notice"]["severity"] == "block"
    refused = client.post(
        "/api/v1/policies/evaluate/",
        {"app": "pets", "contract": {"breaking_changes": 2}},
        format="json",
    )
    assert refused.status_code == 200, refused.json()
    found = [f for f in refused.json()["findings"] if f["rule"] == "breaking-needs-notice"]
    assert refused.json()["passed"] is False
    assert found[0]["field"] == "effective_at" and "3 live dependents" in found[0]["message"]
    scheduled = client.post(
        "/api/v1/policies/evaluate/",
        {"app": "pets", "contract": {"breaking_changes": 2, "effective_at": later(days=30)}},
        format="json",
    )
    assert not [f for f in scheduled.json()["findings"] if f["rule"] == "breaking-needs-notice"]
    payload = client.post(
        "/api/v1/policies/evaluate/",
        {"slug": "new", "contract": {"breaking_changes": 1, "touched_dependents": 0}},
        format="json",
    )
    assert not [f for f in payload.json()["findings"] if f["rule"] == "breaking-needs-notice"]


def test_the_rule_itself_counts_the_window_and_the_override(settings):
    settings.APPKEEPER_BREAKING_NOTICE_DAYS = 14
    facts = policies.AppFacts(contract_breaking_changes=3, contract_touched_dependents=1)
    rule = [policies.rules_by_id()["breaking-needs-notice"]]
    assert policies.evaluate(facts, rules=rule)[0].severity == "block"
    enough = policies.AppFacts(
        contract_breaking_changes=3,
        contract_touched_dependents=1,
        contract_notice=timedelta(days=14) - timedelta(seconds=20),
    )
    assert policies.evaluate(enough, rules=rule) == []
    overridden = policies.AppFacts(
        contract_breaking_changes=3, contract_touched_dependents=1, contract_override=True
    )
    assert policies.evaluate(overridden, rules=rule) == []


# --- acknowledgements ----------------------------------------------------------------------


@pytest.fixture
def scheduled(api_as, alice, fleet):
    answer = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return Contract.objects.get(version="2.0.0")


ACK = "/api/v1/apps/pets/contracts/2.0.0/acknowledge/"


def test_a_dependent_s_owner_acknowledges_once_and_the_provider_sees_who_has_not(
    api_as, alice, carol, scheduled, django_assert_max_num_queries
):
    answer = api_as(carol).post(ACK, {"app": "portal", "comment": "Moving to /pets?id="})
    assert answer.status_code == 201, answer.json()
    assert answer.json()["acknowledged_by"] == "carol" and answer.json()["created"] is True
    again = api_as(carol).post(ACK, {"app": "portal", "comment": "again"})
    assert again.status_code == 200 and again.json()["comment"] == "Moving to /pets?id="
    assert ContractAcknowledgement.objects.count() == 1
    assert AuditEvent.objects.filter(action="contract_acknowledged").count() == 1
    with django_assert_max_num_queries(10):
        detail = api_as(alice).get("/api/v1/apps/pets/contracts/2.0.0/")
    acks = detail.json()["acknowledgements"]
    assert [a["app"] for a in acks["acknowledged"]] == ["portal"]
    assert [p["app"] for p in acks["pending"]] == ["intake"]
    assert detail.json()["status"] == "scheduled"


def test_only_who_answers_for_the_dependent_acknowledges_and_only_for_a_dependent(
    api_as, alice, bob, carol, pat, scheduled, fleet
):
    refused = api_as(bob).post(ACK, {"app": "portal"})
    assert refused.status_code == 403
    assert "Portal" in refused.json()["detail"]
    not_dependent = api_as(carol).post(ACK, {"app": "kiosk"})  # calls portal, not pets
    assert not_dependent.status_code == 400
    assert "not a live app depending on Pets" in not_dependent.json()["app"][0]
    assert api_as(carol).post(ACK, {"app": "nope"}).status_code == 400
    assert api_as(carol).post(ACK, {}).status_code == 400
    assert api_as(pat).post(ACK, {"app": "intake"}).status_code == 201
    stranger = UserFactory()
    assert api_as(stranger).post(ACK, {"app": "portal"}).status_code == 403


def test_a_version_without_breaking_changes_has_nothing_to_acknowledge(api_as, carol, fleet):
    answer = api_as(carol).post("/api/v1/apps/pets/contracts/1.0.0/acknowledge/", {"app": "portal"})
    assert answer.status_code == 400 and "no breaking change" in answer.json()["version"][0]


# --- pages ---------------------------------------------------------------------------------


def upload_page(client, doc, **extra):
    return client.post("/apps/pets/contracts/upload/", {"text": json.dumps(doc), **extra})


def test_the_upload_page_shows_the_impact_before_the_owner_confirms(client, alice, fleet):
    client.force_login(alice)
    review = upload_page(client, v2_breaking())
    html = review.content.decode()
    assert review.status_code == 200
    assert "Who this version reaches" in html
    assert "Portal" in html and "Kiosk" in html and "through" in html
    assert "no notice" in html
    assert 'name="effective_at"' in html and 'name="override_reason"' not in html
    assert not Contract.objects.filter(version="2.0.0").exists()
    # Confirming without a window is refused inline, nothing stored.
    refused = upload_page(client, v2_breaking(), confirm="1")
    assert refused.status_code == 422
    page = refused.content.decode()
    assert 'aria-describedby="id_effective_at_help id_effective_at_errors"' in page
    assert 'aria-invalid="true"' in page and "at least 30 days" in page
    assert 'id="error-summary"' in page
    assert not Contract.objects.filter(version="2.0.0").exists()
    stored = upload_page(
        client, v2_breaking(), confirm="1", effective_at=later(days=30, hours=1)[:16]
    )
    assert stored.status_code == 302
    assert Contract.objects.get(version="2.0.0").is_scheduled
    panel = client.get("/apps/pets/").content.decode()
    assert "Scheduled for" in panel and "1 Apr 2026" in panel


def test_the_platform_team_sees_the_override_on_the_review_page(client, pat, fleet, pets):
    client.force_login(pat)
    html = upload_page(client, v2_breaking()).content.decode()
    assert 'name="override_reason"' in html
    stored = upload_page(client, v2_breaking(), confirm="1", override_reason="Incident 42")
    assert stored.status_code == 302
    assert latest_contract(app=pets).version == "2.0.0"


def test_a_check_first_shows_the_changes_of_a_compatible_version_too(client, alice, fleet):
    client.force_login(alice)
    compatible = json.loads(json.dumps(PETSTORE_V1))
    compatible["info"]["version"] = "1.1.0"
    compatible["paths"]["/cats"] = compatible["paths"]["/pets"]
    review = upload_page(client, compatible, check="1")
    assert review.status_code == 200 and "Who this version reaches" in review.content.decode()
    assert not Contract.objects.filter(version="1.1.0").exists()
    assert upload_page(client, compatible).status_code == 302  # nobody to warn: stored


def test_the_version_page_lists_acknowledgements_and_lets_a_dependent_acknowledge(
    client, alice, carol, scheduled, django_assert_max_num_queries
):
    client.force_login(carol)
    page = client.get("/apps/pets/contracts/2.0.0/?dependent=portal").content.decode()
    assert "Scheduled for" in page and "1 Apr 2026" in page
    assert 'id="acknowledgements"' in page
    assert page.count('action="/apps/pets/contracts/2.0.0/acknowledge/"') == 2  # portal, intake
    answer = client.post(
        "/apps/pets/contracts/2.0.0/acknowledge/", {"app": "portal", "comment": "On it"}
    )
    assert answer.status_code == 302
    assert ContractAcknowledgement.objects.get().comment == "On it"
    client.force_login(alice)
    with django_assert_max_num_queries(25):
        page = client.get("/apps/pets/contracts/2.0.0/").content.decode()
    assert "On it" in page and "Not yet" in page
    assert 'action="/apps/pets/contracts/2.0.0/acknowledge/"' not in page  # alice owns neither


def test_a_refused_acknowledgement_from_the_page_says_why(client, bob, scheduled):
    client.force_login(bob)
    url = "/apps/pets/contracts/2.0.0/acknowledge/"
    assert client.post(url, {"app": "portal"}).status_code == 403
    answer = client.post(url, {"app": "nope"})
    assert answer.status_code == 400
    assert "No such app" in answer.content.decode()
    assert not ContractAcknowledgement.objects.exists()


@pytest.mark.parametrize("callers", [2, 30])
def test_the_pages_cost_the_same_queries_however_many_dependents(
    client, alice, carol, pets, field_ops, callers, django_assert_max_num_queries
):
    for n in range(callers):
        caller = MicroAppFactory(slug=f"caller-{n}", team=field_ops, owner=carol, state="active")
        link(caller, pets, uses=["GET /pets/{id}"])
    client.force_login(alice)
    with django_assert_max_num_queries(25):
        review = upload_page(client, v2_breaking())
    assert review.status_code == 200 and f"caller-{callers - 1}" in review.content.decode()
    upload_page(client, v2_breaking(), confirm="1", effective_at=later(days=31)[:16])
    assert Notification.objects.filter(kind="contract_breaking").count() == callers
    client.force_login(carol)
    with django_assert_max_num_queries(25):
        page = client.get("/apps/pets/contracts/2.0.0/")
    assert page.content.decode().count("Acknowledge for") == callers


def test_the_job_is_on_the_beat_schedule_under_its_name():
    from config.celery import app as celery_app

    entry = celery_app.conf.beat_schedule["activate-scheduled-contracts"]
    assert entry["task"] == "catalog.activate_scheduled_contracts"
    assert activate_scheduled_contracts.name in celery_app.tasks


@pytest.mark.django_db(transaction=True)
def test_two_workers_racing_record_each_version_taking_effect_once(fleet, pets, frozen):
    """Real concurrency needs a server database: SQLite serialises writers anyway."""
    import threading

    from django.db import connection

    from tests.conftest import require_postgres

    require_postgres("two workers racing for the due versions need row locks")
    for n in range(6):
        Contract.objects.create(
            app=pets,
            kind="openapi",
            version=f"3.{n}",
            sha256=f"race{n}",
            document=v2_breaking(),
            breaking=True,
            changes=[{"level": "ERR", "id": "x", "message": "m", "operation": "", "path": ""}],
            effective_at=NOW + timedelta(hours=1),
        )
    frozen.move_to(NOW + timedelta(hours=2))
    workers = 4
    barrier = threading.Barrier(workers)
    counts: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait(timeout=10)
            counts.append(contracts_take_effect())
        except BaseException as exc:  # surfaced below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    assert sum(counts) == 6
    assert AuditEvent.objects.filter(action="contract_effective").count() == 6
    # intake declared nothing, so every version touches it: one notice per version.
    assert Notification.objects.filter(kind="contract_effective", app__slug="intake").count() == 6


def test_the_pipeline_command_names_who_the_changes_touch(fleet, tmp_path):
    import io

    from django.core.management import call_command

    candidate = tmp_path / "openapi.json"
    candidate.write_text(json.dumps(v2_breaking()))
    out = io.StringIO()
    with pytest.raises(SystemExit) as exit_code:
        call_command("contract_check", str(candidate), "--app", "pets", stdout=out)
    assert exit_code.value.code == 1
    report = out.getvalue()
    assert "Reaches 4 live dependent(s), 3 direct; breaking changes touch 2." in report
    assert "touched  portal (carol): 1 change(s)" in report
    assert "effective_at at least 30 days ahead" in report
