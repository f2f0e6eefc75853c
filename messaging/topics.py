"""Which topic a notification ``kind`` belongs to: people choose a cadence per topic, not
per kind, and a kind nobody mapped still reaches them (as "everything else")."""

from __future__ import annotations

from catalog.ownership import HANDED_OVER, ORPHANED_NOTICE
from catalog.transfers import NOTICE_KIND as OWNER_TRANSFERRED
from lifecycle.choices import NoticeKind
from messaging.models import Topic

TOPIC_OF_KIND: dict[str, Topic] = {
    NoticeKind.EXPIRY_REMINDER: Topic.EXPIRY,
    NoticeKind.APP_EXPIRED: Topic.EXPIRY,
    NoticeKind.RECERTIFICATION_OVERDUE: Topic.EXPIRY,
    NoticeKind.APP_RENEWED: Topic.EXPIRY,
    NoticeKind.SUNSET_NOTICE: Topic.SUNSET,
    NoticeKind.SUNSET_CONTESTED: Topic.SUNSET,
    NoticeKind.SUNSET_CLOSED: Topic.SUNSET,
    NoticeKind.SUNSET_ESCALATED: Topic.SUNSET,
    NoticeKind.DEPENDENCY_SUNSET: Topic.SUNSET,
    "dependency_retired": Topic.SUNSET,
    "review_requested": Topic.REVIEWS,
    "review_approved": Topic.REVIEWS,
    "review_changes_requested": Topic.REVIEWS,
    "review_rejected": Topic.REVIEWS,
    "review_overdue": Topic.REVIEWS,
    "contract_breaking": Topic.CONTRACTS,
    "contract_effective": Topic.CONTRACTS,
    "contract_withdrawn": Topic.CONTRACTS,
    "contract_rescheduled": Topic.CONTRACTS,
    HANDED_OVER: Topic.OWNERSHIP,
    ORPHANED_NOTICE: Topic.OWNERSHIP,
    OWNER_TRANSFERRED: Topic.OWNERSHIP,
    # An expiring API token is the person's own credential, not an app's lifecycle.
    NoticeKind.API_TOKEN_EXPIRING: Topic.OTHER,
}

# Expiry notices that are never held for a digest once the app is this close to expiry.
URGENT_KINDS = frozenset(
    {NoticeKind.EXPIRY_REMINDER, NoticeKind.APP_EXPIRED, NoticeKind.RECERTIFICATION_OVERDUE}
)

DIGEST_KINDS = ("digest_daily", "digest_weekly")


def topic_of(kind: str) -> Topic:
    return TOPIC_OF_KIND.get(kind, Topic.OTHER)
