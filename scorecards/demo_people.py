"""The demo's people story: co-owners, team leads, and an ex-employee whose apps were
handed over when his account was switched off.

Dave (platform team) owned two apps. Language Detector had pat as co-owner, so pat took
it over; Meeting Notes had nobody (the platform team has no lead), so it is orphaned and
waits for the platform team to assign an owner. Both show it in their history, and the
notices the handover queued are delivered like the rest of the demo's news: pat's
"you now own" read, the orphaned app's unread until someone acts on it.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model

from catalog.models import MicroApp, Notification, Team
from catalog.ownership import HANDED_OVER, ORPHANED_NOTICE
from identity import people
from identity.models import DeactivatedVia
from scorecards.demo import delivered

LEADS = {"support-tools": "alice", "field-ops": "carol"}
# A co-owner in another team (alice on field-ops' Route Optimizer) shares the owner's
# rights all the same.
CO_OWNERS = {
    "ticket-router": ["bob"],
    "crm-sync": ["alice"],
    "route-optimizer": ["alice"],
    "language-detector": ["pat"],
}
LEAVER = "dave"


def set_up_people(teams: dict[str, Team], users: dict) -> None:
    """Team leads and co-owners; set on every run, so a rerun changes nothing."""
    for slug, lead in LEADS.items():
        if teams[slug].lead_id != users[lead].pk:
            teams[slug].lead = users[lead]
            teams[slug].save(update_fields=["lead", "updated_at"])
    apps = MicroApp.objects.in_bulk(list(CO_OWNERS), field_name="slug")
    for slug, names in CO_OWNERS.items():
        if slug in apps:
            apps[slug].co_owners.add(*[users[name] for name in names])


def leaver_leaves(now) -> None:
    """Switch Dave's account off, as provisioning would; the second run finds him gone."""
    leaver = get_user_model().objects.get(username=LEAVER)
    if not leaver.is_active:
        return
    people.deactivate(leaver, actor=None, via=DeactivatedVia.SCIM)
    news = Notification.objects.filter(
        kind__in=[HANDED_OVER, ORPHANED_NOTICE], sent_at__isnull=True
    ).select_related("app")
    rows = []
    for note in news:
        # Only the orphaned app still needs someone to act.
        rows += delivered([note], now, unread=note.kind == ORPHANED_NOTICE)
    Notification.objects.bulk_update(rows, ["created_at", "sent_at", "attempts", "read_at"])
