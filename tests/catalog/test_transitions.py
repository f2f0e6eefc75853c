"""One table of state transitions, used by MicroApp's methods and by the bulk jobs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, MicroApp, TransitionError
from lifecycle import services
from lifecycle.choices import SunsetReason
from lifecycle.models import SunsetCase
from tests.factories import MicroAppFactory

pytestmark = pytest.mark.django_db


def shape(event: AuditEvent) -> tuple:
    return (
        event.action,
        event.actor,
        sorted(event.changes),
        event.changes["state"],
        event.comment,
        event.request_id,
    )


def test_every_action_has_its_sources_and_target_in_one_table():
    table = MicroApp.TRANSITIONS
    assert set(table) == {
        "activated",
        "submitted",
        "changes_requested",
        "expired",
        "sunset_started",
        "retired",
    }
    assert table["expired"].sources == {AppState.ACTIVE}
    assert table["retired"].sources == set(AppState.values) - {AppState.RETIRED}
    draft = MicroAppFactory(state=AppState.DRAFT)
    with pytest.raises(TransitionError):
        draft.expire()  # not a source of "expired"


def test_a_refused_transition_says_what_could_not_be_done_in_plain_words(pat):
    retired = MicroAppFactory(state=AppState.RETIRED)
    with pytest.raises(TransitionError) as refused:
        retired.retire(by=pat, reason="Nobody uses it.")
    assert refused.value.messages == ["Cannot retire an app that is retired."]
    draft = MicroAppFactory(state=AppState.DRAFT)
    with pytest.raises(TransitionError) as refused:
        draft.return_to_draft(by=pat, comment="Needs a runbook.")
    assert refused.value.messages == ["Cannot request changes to an app that is draft."]


def test_a_bulk_move_leaves_out_apps_the_table_does_not_allow(django_assert_num_queries):
    active = [MicroAppFactory(state=AppState.ACTIVE) for _ in range(3)]
    draft = MicroAppFactory(state=AppState.DRAFT)
    with django_assert_num_queries(2):  # one UPDATE, one INSERT of the audit events
        moved = MicroApp.transition_many([*active, draft], action="expired", comment="Late.")
    assert moved == active and all(a.state == AppState.EXPIRED for a in moved)
    assert set(MicroApp.objects.values_list("state", flat=True)) == {"expired", "draft"}
    assert AuditEvent.objects.filter(action="expired").count() == 3
    assert not AuditEvent.objects.filter(app=draft).exists()


def test_a_bulk_move_skips_a_row_that_left_the_state_it_was_read_in():
    app = MicroAppFactory(state=AppState.SUNSETTING)
    MicroApp.objects.filter(pk=app.pk).update(state=AppState.ACTIVE)  # renewed meanwhile
    MicroApp.transition_many([app], action="retired", values={"retired_reason": "x"})
    assert MicroApp.objects.get(pk=app.pk).state == AppState.ACTIVE


def test_bulk_and_single_moves_write_the_same_audit_event(alice):
    now = timezone.now()
    one, many = MicroAppFactory(state=AppState.SUNSETTING), MicroAppFactory(state="sunsetting")
    one.retire(by=None, reason="Nobody answered.")
    MicroApp.transition_many(
        [many],
        action="retired",
        comment="Nobody answered.",
        now=now,
        values={"retired_at": now, "retired_reason": "Nobody answered."},
    )
    single = AuditEvent.objects.get(app=one)
    bulk = AuditEvent.objects.get(app=many)
    assert shape(single) == shape(bulk)
    assert bulk.changes["retired_at"] == [None, now.isoformat()]
    many.refresh_from_db()
    assert (many.state, many.retired_at, many.retired_reason) == (
        "retired",
        now,
        "Nobody answered.",
    )


def test_the_sunset_job_retires_with_the_audit_event_retire_writes(alice, support_tools):
    app = MicroAppFactory(team=support_tools, owner=alice, state=AppState.SUNSETTING)
    case = SunsetCase.objects.create(
        app=app, reason=SunsetReason.LOW_USAGE, grace_ends_at=timezone.now() - timedelta(hours=1)
    )
    assert services.sunset_cases_close() == 1
    event = AuditEvent.objects.get(app=app, action="retired")
    assert sorted(event.changes) == ["retired_at", "retired_reason", "state"]
    assert event.changes["state"] == [AppState.SUNSETTING, AppState.RETIRED]
    assert event.data == {"sunset_case": case.pk}
