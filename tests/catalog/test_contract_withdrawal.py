"""A scheduled breaking version can be withdrawn or moved before it takes effect: nothing is
deleted, the dependents that were told hear of it once, the next upload builds on what is
still coming, and an earlier date keeps the migration window they were promised."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from catalog.breaking_services import contracts_take_effect
from catalog.models import AuditEvent, Contract, ContractAcknowledgement, Dependency, Notification
from catalog.selectors import latest_contract
from tests.catalog import test_breaking_impact as breaking
from tests.catalog.test_contracts_api import PETSTORE_V1, v2_breaking
from tests.factories import MicroAppFactory, UserFactory

NOW, UPLOAD, later = breaking.NOW, breaking.UPLOAD, breaking.later
# The provider with its first version and its dependents, as the breaking tests have them.
pets, fleet = breaking.pets, breaking.fleet

pytestmark = pytest.mark.django_db

BASE = "/api/v1/apps/pets/contracts/2.0.0/"
WITHDRAW = BASE + "withdraw/"
RESCHEDULE = BASE + "reschedule/"
PAGE = "/apps/pets/contracts/2.0.0/"


@pytest.fixture(autouse=True)
def frozen():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def scheduled(api_as, alice, fleet):
    answer = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=30)}, format="json"
    )
    assert answer.status_code == 201, answer.json()
    return Contract.objects.get(version="2.0.0")


# --- withdrawing ---------------------------------------------------------------------------


def test_the_owner_withdraws_a_scheduled_version_and_the_notified_hear_it_once(
    api_as, alice, carol, scheduled, django_assert_max_num_queries
):
    with django_assert_max_num_queries(20):
        answer = api_as(alice).post(WITHDRAW, {"reason": "We found a way to keep /pets/{id}"})
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["status"] == "withdrawn"
    assert body["withdrawn_by"] == "alice"
    assert body["withdrawn_reason"] == "We found a way to keep /pets/{id}"
    assert body["withdrawn_at"].startswith("2026-03-02T09:00")
    scheduled.refresh_from_db()
    assert scheduled.is_withdrawn and not scheduled.is_scheduled
    assert scheduled.status == "withdrawn"
    # The version stays, with its label.
    assert Contract.objects.filter(version="2.0.0").exists()
    notes = Notification.objects.filter(kind="contract_withdrawn").order_by("app__slug")
    assert [(n.app.slug, n.recipient.username) for n in notes] == [
        ("intake", "carol"),
        ("portal", "carol"),
    ]
    assert "We found a way" in notes[1].body and "withdrew" in notes[1].body
    assert notes[1].link == "/apps/pets/contracts/2.0.0/?dependent=portal#acknowledgements"
    event = AuditEvent.objects.get(action="contract_withdrawn")
    assert event.actor == alice and event.comment == "We found a way to keep /pets/{id}"
    assert event.data["dependents_notified"] == ["intake", "portal"]

    again = api_as(alice).post(WITHDRAW, {"reason": "twice"})
    assert again.status_code == 409 and again.json()["code"] == "already_withdrawn"
    assert Notification.objects.filter(kind="contract_withdrawn").count() == 2
    assert AuditEvent.objects.filter(action="contract_withdrawn").count() == 1
    listed = api_as(carol).get("/api/v1/apps/pets/contracts/").json()
    assert {c["version"]: c["status"] for c in listed} == {
        "2.0.0": "withdrawn",
        "1.0.0": "effective",
    }


def test_a_withdrawn_version_never_becomes_current_and_the_job_ignores_it(
    api_as,
    alice,
    pets,
    scheduled,
    frozen,
):
    assert api_as(alice).post(WITHDRAW, {"reason": "not needed"}).status_code == 200
    frozen.move_to(NOW + timedelta(days=31))
    assert latest_contract(app=pets).version == "1.0.0"
    assert latest_contract(app=pets, include_scheduled=True).version == "1.0.0"
    assert not Contract.objects.due_to_take_effect().exists()
    assert list(Contract.objects.in_effect().values_list("version", flat=True)) == ["1.0.0"]
    assert contracts_take_effect() == 0
    assert not Notification.objects.filter(kind="contract_effective").exists()
    scheduled.refresh_from_db()
    assert scheduled.took_effect_recorded_at is None and scheduled.status == "withdrawn"
    # Withdrawn, there is nothing to acknowledge.
    ack = api_as(UserFactory()).post(BASE + "acknowledge/", {"app": "portal"})
    assert ack.status_code in {400, 403}


def test_the_next_upload_is_diffed_against_the_version_before_the_withdrawn_one(
    api_as, alice, scheduled
):
    api_as(alice).post(WITHDRAW, {"reason": "rethinking"})
    # The same breaking changes again: against 1.0.0 they break the dependents again, so
    # they need their own window (nothing is inherited from the withdrawn date).
    v3 = v2_breaking()
    v3["info"]["version"] = "3.0.0"
    v3["paths"]["/pets"]["get"]["responses"]["201"] = {"description": "also"}
    refused = api_as(alice).post(UPLOAD, {"spec": v3}, format="json")
    assert refused.status_code == 422 and refused.json()["code"] == "breaking_needs_notice"
    answer = api_as(alice).post(UPLOAD, {"spec": v3, "effective_at": later(days=45)}, format="json")
    assert answer.status_code == 201, answer.json()
    stored = Contract.objects.get(version="3.0.0")
    assert stored.breaking
    scheduled.refresh_from_db()
    # Against 1.0.0 it breaks what the withdrawn version broke, nothing less.
    assert {c["id"] for c in stored.changes if c["level"] == "ERR"} == {
        c["id"] for c in scheduled.changes if c["level"] == "ERR"
    }
    assert stored.effective_at == NOW + timedelta(days=45)
    event = AuditEvent.objects.get(action="contract_uploaded", data__version="3.0.0")
    assert event.changes == {"contract": ["1.0.0", "3.0.0"]}
    # Its dependents were told afresh, once each.
    assert Notification.objects.filter(kind="contract_breaking").count() == 4


def test_the_withdrawn_document_can_be_uploaded_again_under_a_new_label(api_as, alice, scheduled):
    api_as(alice).post(WITHDRAW, {"reason": "wrong date"})
    again = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "effective_at": later(days=60)}, format="json"
    )
    assert again.status_code == 201, again.json()
    assert again.json()["created"] is True
    assert again.json()["version"] == "2.0.0-r2"  # the withdrawn label stays taken
    taken = api_as(alice).post(
        UPLOAD, {"spec": v2_breaking(), "version": "2.0.0", "effective_at": later(60)}
    )
    assert taken.status_code in {200, 400}  # same content as 2.0.0-r2: that one answers


def test_a_version_in_effect_cannot_be_withdrawn(api_as, alice, scheduled, frozen):
    current = api_as(alice).post("/api/v1/apps/pets/contracts/1.0.0/withdraw/", {"reason": "x"})
    assert current.status_code == 409 and current.json()["code"] == "already_in_effect"
    frozen.move_to(NOW + timedelta(days=30, minutes=1))
    late = api_as(alice).post(WITHDRAW, {"reason": "too late"})
    assert late.status_code == 409 and late.json()["code"] == "already_in_effect"
    assert not Contract.objects.filter(withdrawn_at__isnull=False).exists()


def test_a_version_a_later_upload_builds_on_is_withdrawn_after_that_one(api_as, alice, scheduled):
    v3 = v2_breaking()
    v3["info"]["version"] = "2.1.0"
    v3["paths"]["/pets"]["get"]["responses"]["201"] = {"description": "also"}
    assert api_as(alice).post(UPLOAD, {"spec": v3}, format="json").status_code == 201
    refused = api_as(alice).post(WITHDRAW, {"reason": "x"})
    assert refused.status_code == 409 and refused.json()["code"] == "built_upon"
    assert "2.1.0" in refused.json()["detail"]
    moved = api_as(alice).post(RESCHEDULE, {"effective_at": later(days=40)})
    assert moved.status_code == 409 and moved.json()["code"] == "built_upon"
    first = api_as(alice).post("/api/v1/apps/pets/contracts/2.1.0/withdraw/", {"reason": "a"})
    assert first.status_code == 200, first.json()
    assert api_as(alice).post(WITHDRAW, {"reason": "b"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "reason"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 5001}, "reason"),
        ({"reason": 12}, "reason"),
    ],
)
def test_a_withdrawal_needs_a_reason_within_the_limit(api_as, alice, scheduled, body, field):
    answer = api_as(alice).post(WITHDRAW, body, format="json")
    assert answer.status_code == 400, answer.json()
    assert field in answer.json()
    scheduled.refresh_from_db()
    assert scheduled.withdrawn_at is None


def test_only_who_uploads_contracts_for_the_app_withdraws_or_reschedules(
    api_as, bob, carol, pat, scheduled
):
    # carol owns dependents, not the provider; bob is on its team, so he answers for it.
    for user in (carol, UserFactory()):
        assert api_as(user).post(WITHDRAW, {"reason": "mine"}).status_code == 403
        assert api_as(user).post(RESCHEDULE, {"effective_at": later(40)}).status_code == 403
    assert api_as(None).post(WITHDRAW, {"reason": "anon"}).status_code in {401, 403}
    assert api_as(bob).post(RESCHEDULE, {"effective_at": later(45)}).status_code == 200
    assert api_as(pat).post(RESCHEDULE, {"effective_at": later(40)}).status_code == 200
    assert api_as(pat).post(WITHDRAW, {"reason": "platform call"}).status_code == 200
    assert (
        api_as(pat).post("/api/v1/apps/nope/contracts/2.0.0/withdraw/", {"reason": "x"}).status_code
        == 404
    )
    assert (
        api_as(pat).post("/api/v1/apps/pets/contracts/9.9.9/withdraw/", {"reason": "x"}).status_code
        == 404
    )


def test_withdrawing_and_rescheduling_cost_the_same_queries_however_many_dependents(
    api_as, alice, carol, support_tools, field_ops, django_assert_num_queries
):
    def measure(slug: str, callers: int) -> tuple[int, int]:
        provider = MicroAppFactory(slug=slug, team=support_tools, owner=alice, state="active")
        Contract.objects.create(
            app=provider,
            kind="openapi",
            version="1.0.0",
            document=PETSTORE_V1,
            sha256="v1",
            spec_version="3.0.3",
            created_at=NOW - timedelta(days=60),
        )
        for n in range(callers):
            caller = MicroAppFactory(
                slug=f"{slug}-{n}", team=field_ops, owner=carol, state="active"
            )
            Dependency.objects.create(
                from_microapp=caller, to_microapp=provider, uses=["GET /pets/{id}"]
            )
        base = f"/api/v1/apps/{slug}/contracts/"
        body = {"spec": v2_breaking(), "effective_at": later(days=30)}
        assert api_as(alice).post(base, body, format="json").status_code == 201
        with django_assert_num_queries(20, exact=False) as moved:
            answer = api_as(alice).post(base + "2.0.0/reschedule/", {"effective_at": later(40)})
        assert answer.status_code == 200, answer.json()
        with django_assert_num_queries(20, exact=False) as withdrawn:
            answer = api_as(alice).post(base + "2.0.0/withdraw/", {"reason": "done"})
        assert answer.status_code == 200, answer.json()
        notes = Notification.objects.filter(app__slug__startswith=f"{slug}-")
        assert notes.filter(kind="contract_rescheduled").count() == callers
        assert notes.filter(kind="contract_withdrawn").count() == callers
        return len(moved.captured_queries), len(withdrawn.captured_queries)

    assert measure("few", 2) == measure("many", 40)


# --- rescheduling ---------------------------------------------------------------------------


def test_moving_later_is_always_allowed_and_the_notified_hear_the_new_date_once(
    api_as, alice, carol, scheduled
):
    ack = api_as(carol).post(BASE + "acknowledge/", {"app": "portal", "comment": "ready"})
    assert ack.status_code == 201
    answer = api_as(alice).post(RESCHEDULE, {"effective_at": later(days=50)})
    assert answer.status_code == 200, answer.json()
    assert answer.json()["effective_at"].startswith("2026-04-21T09:00")
    assert answer.json()["status"] == "scheduled"
    assert [a["app"] for a in answer.json()["acknowledgements"]["acknowledged"]] == ["portal"]
    scheduled.refresh_from_db()
    assert scheduled.effective_at == NOW + timedelta(days=50)
    assert ContractAcknowledgement.objects.count() == 1  # acknowledgements stay
    notes = Notification.objects.filter(kind="contract_rescheduled").order_by("app__slug")
    assert [n.app.slug for n in notes] == ["intake", "portal"]
    assert "21 Apr 2026" in notes[1].subject and "later" in notes[1].body
    assert "still stands" in notes[1].body
    event = AuditEvent.objects.get(action="contract_rescheduled")
    assert event.changes == {
        "effective_at": [(NOW + timedelta(days=30)).isoformat(), scheduled.effective_at.isoformat()]
    }
    # The same date again changes nothing and tells nobody twice.
    same = api_as(alice).post(RESCHEDULE, {"effective_at": later(days=50)})
    assert same.status_code == 422 and "already scheduled" in same.json()["effective_at"][0]
    assert Notification.objects.filter(kind="contract_rescheduled").count() == 2
    # A second move is a second notice, with its own date.
    api_as(alice).post(RESCHEDULE, {"effective_at": later(days=60)})
    assert Notification.objects.filter(kind="contract_rescheduled").count() == 4


def test_moving_earlier_keeps_the_window_counted_from_the_notices(
    api_as, alice, pat, frozen, scheduled
):
    api_as(alice).post(RESCHEDULE, {"effective_at": later(days=50)})
    # Back to 30 days after the notices went out: allowed, even ten days on.
    frozen.move_to(NOW + timedelta(days=10))
    back = api_as(alice).post(RESCHEDULE, {"effective_at": later(days=30)})
    assert back.status_code == 200, back.json()
    short = api_as(alice).post(RESCHEDULE, {"effective_at": later(days=25)})
    assert short.status_code == 422
    body = short.json()
    assert body["code"] == "schedule_refused"
    assert "1 Apr 2026" in body["effective_at"][0] and "30 days" in body["effective_at"][0]
    scheduled.refresh_from_db()
    assert scheduled.effective_at == NOW + timedelta(days=30)
    # Only the platform team overrides, with a reason recorded on the version.
    assert (
        api_as(alice)
        .post(RESCHEDULE, {"effective_at": later(days=25), "override_reason": "hurry"})
        .status_code
        == 403
    )
    forced = api_as(pat).post(
        RESCHEDULE, {"effective_at": later(days=25), "override_reason": "Security fix"}
    )
    assert forced.status_code == 200, forced.json()
    assert forced.json()["override_reason"] == "Security fix"
    note = Notification.objects.filter(kind="contract_rescheduled").latest("pk")
    assert "earlier" in note.body and "Security fix" in note.body


@pytest.mark.parametrize(
    "body",
    [{}, {"effective_at": "soon"}, {"effective_at": later(40), "override_reason": "x" * 5001}],
)
def test_a_malformed_reschedule_is_a_field_error(api_as, pat, scheduled, body):
    answer = api_as(pat).post(RESCHEDULE, body, format="json")
    assert answer.status_code == 400, answer.json()
    assert set(answer.json()) & {"effective_at", "override_reason"}


def test_a_past_date_or_a_version_in_effect_is_refused(api_as, alice, scheduled):
    past = api_as(alice).post(RESCHEDULE, {"effective_at": (NOW - timedelta(hours=1)).isoformat()})
    assert past.status_code == 422 and "future" in past.json()["effective_at"][0]
    current = api_as(alice).post(
        "/api/v1/apps/pets/contracts/1.0.0/reschedule/", {"effective_at": later(40)}
    )
    assert current.status_code == 409 and current.json()["code"] == "already_in_effect"
    api_as(alice).post(WITHDRAW, {"reason": "gone"})
    gone = api_as(alice).post(RESCHEDULE, {"effective_at": later(40)})
    assert gone.status_code == 409 and gone.json()["code"] == "already_withdrawn"


def test_a_rescheduled_version_takes_effect_at_its_new_date(api_as, alice, pets, frozen, scheduled):
    api_as(alice).post(RESCHEDULE, {"effective_at": later(days=40)})
    frozen.move_to(NOW + timedelta(days=31))
    assert contracts_take_effect() == 0 and latest_contract(app=pets).version == "1.0.0"
    frozen.move_to(NOW + timedelta(days=40, minutes=1))
    assert contracts_take_effect() == 1 and latest_contract(app=pets).version == "2.0.0"


# --- pages ---------------------------------------------------------------------------------


def test_the_version_page_offers_the_forms_to_who_may_change_the_schedule(
    client, alice, carol, pat, scheduled, django_assert_max_num_queries
):
    client.force_login(carol)
    page = client.get(PAGE).content.decode()
    assert "Withdraw 2.0.0" not in page and "Reschedule 2.0.0" not in page
    client.force_login(alice)
    with django_assert_max_num_queries(25):
        page = client.get(PAGE).content.decode()
    assert 'action="/apps/pets/contracts/2.0.0/withdraw/"' in page
    assert 'action="/apps/pets/contracts/2.0.0/reschedule/"' in page
    assert 'for="id_reason"' in page and 'for="id_effective_at"' in page
    assert 'name="override_reason"' not in page  # the override is the platform team's
    client.force_login(pat)
    assert 'name="override_reason"' in client.get(PAGE).content.decode()


def test_rescheduling_and_withdrawing_from_the_page(client, alice, pets, scheduled):
    client.force_login(alice)
    refused = client.post(PAGE + "reschedule/", {"effective_at": later(days=10)[:16]})
    assert refused.status_code == 422
    assert (
        "or later" in refused.content.decode()
        and 'id="schedule-errors"' in refused.content.decode()
    )
    moved = client.post(PAGE + "reschedule/", {"effective_at": later(days=45)[:16]})
    assert moved.status_code == 302
    scheduled.refresh_from_db()
    assert scheduled.effective_at == NOW + timedelta(days=45)
    empty = client.post(PAGE + "withdraw/", {"reason": "  "})
    assert empty.status_code == 400 and "required" in empty.content.decode()
    done = client.post(PAGE + "withdraw/", {"reason": "Changed our minds"})
    assert done.status_code == 302
    page = client.get(PAGE).content.decode()
    assert "Withdrawn" in page and "Changed our minds" in page
    assert "Withdraw 2.0.0" not in page
    app_page = client.get("/apps/pets/").content.decode()
    assert "Withdrawn" in app_page and "is scheduled for" not in app_page
    twice = client.post(PAGE + "withdraw/", {"reason": "again"})
    assert twice.status_code == 409 and "was withdrawn" in twice.content.decode()


def test_the_pages_refuse_who_may_not_change_the_schedule(client, carol, scheduled):
    client.force_login(carol)
    assert client.post(PAGE + "withdraw/", {"reason": "x"}).status_code == 403
    assert client.post(PAGE + "reschedule/", {"effective_at": later(40)[:16]}).status_code == 403
    assert client.get(PAGE + "withdraw/").status_code == 405
