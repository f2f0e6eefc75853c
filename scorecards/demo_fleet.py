"""The demo fleet's story: who owns which app, where each one is in its life, and when
each thing happened — worked out from the product's own rules, so every page agrees.

``load_demo`` writes what :func:`plan` returns. The rules it follows (and that
``tests/scorecards/test_load_demo.py`` checks on the loaded data):

- an app's dates follow its state: ``expires_at`` is ``went_live_at`` plus the expiry
  period (``APPKEEPER_EXPIRY_DAYS``, or ``APPKEEPER_RECERTIFY_DAYS`` for critical apps),
  plus one period per renewal; expired apps are within their grace period; a sunset case
  for an unrenewed expiry opened when the grace period ended; retired apps were retired
  when their unanswered case's grace period ended;
- critical apps do not expire, so none is expired, sunsetting or retired;
- only high-risk apps are reviewed; the platform team never reviews its own apps, so its
  member pat owns low-risk apps only;
- every app has an ingestion secret (registration issues one), and only apps past draft
  report telemetry;
- reminders went out on each configured day before expiry that has passed.

Each demo user's dashboard has something to do: alice has apps to renew this week and a
production draft waiting for its first heartbeat, pat has four reviews waiting (one
overdue), a contested sunset case and one escalated to the platform team, fin sees
chargeback over complete months.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from django.conf import settings

from catalog.choices import AppState, Criticality
from scorecards.periods import previous_quarter

OWNER_TEAMS = {
    "alice": "support-tools",
    "bob": "support-tools",
    "carol": "field-ops",
    "pat": "platform",
    "dave": "platform",
}
RENEWED_BEFORE_EXPIRY = timedelta(days=10)  # inside the renewal window, after two reminders


@dataclass(frozen=True)
class Spec:
    """One demo app as the story tells it. Times are days (or hours) before or after now.

    ``left``: days to expiry (negative: past) for active and expired apps; ``renewals``:
    how many times an active app was renewed; ``case_days``: days since its sunset case
    opened; ``retired_days``: days since it was retired; ``submitted_hours``: hours since
    an app in review was submitted; ``quiet_days``: days since its last telemetry;
    ``missing``: what a draft still lacks (``sla``, ``contract``).
    """

    name: str
    owner: str
    state: str
    criticality: str = Criticality.STANDARD
    environment: str = "staging"
    pii: bool = False
    payment: bool = False
    exposed: bool = False
    left: float = 0
    renewals: int = 0
    case_days: float = 0
    low_usage: bool = False
    contested: bool = False
    retired_days: float = 0
    submitted_hours: float = 0
    quiet_days: float = 0
    missing: tuple[str, ...] = ()

    @property
    def slug(self) -> str:
        return self.name.lower().replace(" ", "-")

    @property
    def high_risk(self) -> bool:
        return self.pii or self.payment or self.exposed


# Short names keep one app to a line.
A, P = AppState.ACTIVE, "production"
CRIT, PROTO = Criticality.CRITICAL, Criticality.PROTOTYPE
FLEET = [
    # alice: two apps to renew this week, a production draft waiting for its first
    # heartbeat, a review overdue, an expired app still in its grace period.
    Spec("Ticket Router", "alice", A, environment=P, pii=True, exposed=True, left=5),
    Spec("SLA Monitor", "alice", A, left=12),
    Spec(
        "Invoice Bot", "alice", AppState.DRAFT, environment=P, payment=True, missing=("contract",)
    ),
    Spec(
        "Uptime Badge", "alice", AppState.IN_REVIEW, environment=P, exposed=True, submitted_hours=60
    ),
    Spec("Payout Checker", "alice", AppState.EXPIRED, environment=P, payment=True, left=-6),
    Spec("Holiday Calendar", "alice", A, criticality=CRIT, environment=P, left=165),
    Spec("Warranty Checker", "alice", AppState.RETIRED, environment="sandbox", retired_days=20),
    # Unanswered past its grace period but called by live apps (``DEPENDENCIES`` in
    # load_demo): the closing job escalated it to the platform team instead of retiring it.
    Spec("Escalation Pager", "alice", AppState.SUNSETTING, case_days=17),
    Spec("Badge Printer", "alice", A, left=60, renewals=1),
    # bob
    Spec("CRM Sync", "bob", A, criticality=CRIT, environment=P, pii=True, left=65),
    Spec("Lead Scorer", "bob", AppState.IN_REVIEW, pii=True, submitted_hours=10),
    Spec("Parts Lookup", "bob", A, criticality=PROTO, environment=P, left=50),
    Spec("Feedback Board", "bob", A, environment=P, left=70),
    Spec("Access Reviewer", "bob", AppState.DRAFT, missing=("sla", "contract")),
    Spec("Vendor Portal", "bob", A, environment="sandbox", exposed=True, left=2),
    Spec("Order Tracker", "bob", AppState.EXPIRED, criticality=PROTO, left=-12),
    Spec(
        "Field Photos",
        "bob",
        AppState.SUNSETTING,
        case_days=4,
        low_usage=True,
        contested=True,
        left=40,
        renewals=1,
    ),
    Spec(
        "Churn Alert",
        "bob",
        AppState.RETIRED,
        criticality=PROTO,
        environment="sandbox",
        retired_days=45,
    ),
    # carol
    Spec("Refund Helper", "carol", A, environment=P, payment=True, left=24),
    Spec("Route Optimizer", "carol", A, criticality=CRIT, environment=P, left=25),
    Spec("Visit Logger", "carol", A, left=80),
    Spec(
        "Quote Builder",
        "carol",
        AppState.IN_REVIEW,
        environment=P,
        exposed=True,
        submitted_hours=20,
    ),
    Spec("Macro Library", "carol", AppState.DRAFT, criticality=PROTO, environment="sandbox"),
    Spec("Returns Portal", "carol", AppState.IN_REVIEW, pii=True, submitted_hours=30),
    Spec("Kiosk Menu", "carol", AppState.RETIRED, environment="sandbox", retired_days=10),
    Spec("Fraud Flagger", "carol", AppState.SUNSETTING, environment=P, exposed=True, case_days=9),
    Spec("Stock Watcher", "carol", A, environment="sandbox", left=20, renewals=1),
    # pat (platform team): low-risk apps only, so every review has a reviewer.
    Spec("Shift Planner", "pat", A, criticality=CRIT, environment=P, left=265),
    Spec("Cost Reporter", "pat", A, environment=P, left=60),
    Spec("Onboarding Flow", "pat", A, criticality=CRIT, left=10),
    Spec("Slack Digest", "pat", A, left=20, quiet_days=6),
    Spec("Knowledge Sync", "pat", AppState.DRAFT, criticality=CRIT, missing=("contract",)),
    # dave left the company (``scorecards.demo_people``): pat took Language Detector over as
    # its co-owner; Meeting Notes had nobody, so it is orphaned.
    Spec("Meeting Notes", "dave", A, criticality=PROTO, environment="sandbox", left=40),
    Spec("Survey Mailer", "pat", AppState.EXPIRED, environment="sandbox", left=-20),
    Spec("Language Detector", "dave", A, left=85),
    Spec("Chat Widget", "pat", A, environment=P, left=0.6),
]


@dataclass
class Timeline:
    """When things happened to one app (None: never)."""

    registered_at: datetime
    submitted_at: datetime | None = None
    went_live_at: datetime | None = None
    expires_at: datetime | None = None
    renewals: list[tuple[datetime, datetime, datetime]] = field(default_factory=list)
    expired_at: datetime | None = None
    case_opened_at: datetime | None = None
    retired_at: datetime | None = None
    last_seen_at: datetime | None = None
    reminders: list[tuple[datetime, int, datetime]] = field(default_factory=list)

    @property
    def period_start(self) -> datetime | None:
        """When the current expiry period began: the last renewal, or going live."""
        return self.renewals[-1][0] if self.renewals else self.went_live_at


def period(spec: Spec) -> timedelta:
    critical = spec.criticality == Criticality.CRITICAL
    days = settings.APPKEEPER_RECERTIFY_DAYS if critical else settings.APPKEEPER_EXPIRY_DAYS
    return timedelta(days=days)


def timeline(spec: Spec, now: datetime) -> Timeline:
    """Work back from where the app is now to when it went live, by the product's rules."""
    day = timedelta(days=1)
    grace = timedelta(days=settings.APPKEEPER_GRACE_DAYS)
    answer = timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
    if spec.state == AppState.DRAFT:
        return Timeline(registered_at=now - 3 * day)
    if spec.state == AppState.IN_REVIEW:
        submitted = now - timedelta(hours=spec.submitted_hours)
        # In review, a production app keeps its heartbeat fresh for the gate.
        return Timeline(
            registered_at=submitted - 5 * day,
            submitted_at=submitted,
            last_seen_at=now - timedelta(minutes=40),
        )
    t = Timeline(registered_at=now)
    if spec.state == AppState.RETIRED:
        t.retired_at = now - spec.retired_days * day
        t.case_opened_at = t.retired_at - answer
        t.expires_at = t.case_opened_at - grace
    elif spec.state == AppState.SUNSETTING and not spec.low_usage:
        t.case_opened_at = now - spec.case_days * day
        t.expires_at = t.case_opened_at - grace
    else:  # active, expired, or sunsetting for low usage (still within its period)
        t.expires_at = now + spec.left * day
        if spec.low_usage:
            t.case_opened_at = now - spec.case_days * day
    if (
        spec.state in (AppState.EXPIRED, AppState.SUNSETTING, AppState.RETIRED)
        and not spec.low_usage
    ):
        t.expired_at = t.expires_at
    length = period(spec)
    start = t.expires_at - length * (1 + spec.renewals)
    t.went_live_at = start
    for n in range(spec.renewals):
        previous = start + length * (n + 1)
        t.renewals.append((previous - RENEWED_BEFORE_EXPIRY, previous, previous + length))
    t.submitted_at = start - (2 * day if spec.high_risk else timedelta(minutes=5))
    t.registered_at = t.submitted_at - 5 * day
    ends = t.retired_at or now
    t.last_seen_at = ends - timedelta(hours=2) - spec.quiet_days * day
    t.reminders = reminders_sent(t, now)
    return t


def reminders_sent(t: Timeline, now: datetime) -> list[tuple[datetime, int, datetime]]:
    """``(expires_at, days_before, sent_at)`` of every reminder the daily job has sent: in
    each period, on each configured day before its expiry that has passed (before the
    renewal that ended the period, if any)."""
    periods = [(previous, renewed_at) for renewed_at, previous, _ in t.renewals]
    assert t.expires_at is not None
    # A sunset for low usage ends the reminders: the job reminds active apps only.
    low_usage_sunset = t.case_opened_at is not None and t.expired_at is None
    periods.append((t.expires_at, t.case_opened_at if low_usage_sunset else now))
    out = []
    for expires_at, until in periods:
        for days in sorted(settings.APPKEEPER_REMINDER_DAYS, reverse=True):
            sent_at = expires_at - timedelta(days=days)
            if sent_at <= min(until, now):
                out.append((expires_at, days, sent_at))
    return out


def usage_start(today: date, usage_days: int | None) -> date:
    """The first day of demo usage: by default the first day of the month before last
    quarter, so chargeback's month-over-month compares whole months for this quarter and
    the last one."""
    if usage_days is not None:
        return today - timedelta(days=usage_days)
    first = previous_quarter(today).start
    return (first - timedelta(days=1)).replace(day=1)
