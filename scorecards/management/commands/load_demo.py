"""Load the demo fleet; running it again changes nothing.

It lives in ``scorecards``, the app at the top of the dependency chain, because the demo
touches every capability: catalog, lifecycle and scorecards."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP, AppState, Criticality, ReviewDecision
from catalog.contract_services import contract_upload
from catalog.models import AuditEvent, Dependency, MicroApp, Notification, Region, Review, Team
from catalog.notifications import owner_notifications, queue
from core.dates import time_left_in_words
from core.webhooks import new_secret
from lifecycle.choices import NoticeKind, SunsetOutcome, SunsetReason, SunsetResponse
from lifecycle.models import Reminder, Renewal, SunsetCase, UsageReport
from lifecycle.selectors import USAGE_WINDOW_DAYS
from lifecycle.services.common import when
from lifecycle.services.reminders import reminder_body
from scorecards.demo import app_profile, delivered, demo_spec
from scorecards.demo_backstage import import_demo_catalog
from scorecards.demo_dependencies import (
    DEPENDENCIES,
    contract_story,
    escalations,
    observed_calls,
)
from scorecards.demo_fleet import FLEET, OWNER_TEAMS, Spec, Timeline, timeline, usage_start
from scorecards.demo_people import leaver_leaves, set_up_people
from scorecards.periods import previous_quarter
from scorecards.services import scorecards_compute

DEMO_PASSWORD = "appkeeper"

REGIONS = [
    ("eu-central", "EU Central (Frankfurt)", "EU", False, True),
    ("eu-sovereign", "EU Sovereign (Paris)", "EU", True, False),
    ("us-east", "US East (Virginia)", "US", False, True),
    ("uk-south", "UK South (London)", "UK", False, False),
]
TEAMS = [
    ("support-tools", "Support Tools", "CC-1001", "support-tools@example.com", "#support-tools"),
    ("field-ops", "Field Ops", "CC-2040", "field-ops@example.com", "#field-ops"),
    ("platform", "Platform", "CC-9000", "platform@example.com", "#platform"),
]
USERS = [
    ("alice", "Alice", "Andersen", ["support-tools"], []),
    ("bob", "Bob", "Brown", ["support-tools"], []),
    ("carol", "Carol", "Costa", ["field-ops"], []),
    ("pat", "Pat", "Park", ["platform"], [PLATFORM_GROUP]),
    ("fin", "Fin", "Fischer", [], [FINANCE_GROUP]),
    # Left the company: his apps were handed over (``scorecards.demo_people``).
    ("dave", "Dave", "Dekker", ["platform"], []),
]
RETIRED_REASON = "No answer to the sunset notice by the end of its grace period."


class Command(BaseCommand):
    help = "Load demo regions, teams, users, apps and 90 days of usage (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument(
            "--usage-days",
            type=int,
            default=None,
            help="Days of usage to load (default: from the first day of the month before "
            "last quarter, so chargeback compares whole months).",
        )

    def handle(self, *args, usage_days: int | None, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data (with its known passwords) is for development only.")
        now = timezone.now()
        with transaction.atomic():
            regions = self._regions()
            teams = self._teams()
            users = self._users(teams)
            created = self._apps(teams, users, regions, now)
            set_up_people(teams, users)
            backstage = import_demo_catalog(users["pat"])
            start = usage_start(now.date(), usage_days)
            usage = self._usage(start, now)
            observed_calls(start)
            history = self._history(created, users, now)
            leaver_leaves(now)
            # Last quarter's scorecards, so the scorecards pages have a quarter to show
            # (recomputing a quarter replaces its rows: idempotent).
            scored = scorecards_compute(quarter=previous_quarter()).scored
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(regions)} regions, {len(teams)} teams, {len(users)} users, "
                f"{MicroApp.objects.count()} apps ({len(created)} new), {usage} new usage rows "
                f"from {start:%d %b %Y}, {history} new reviews, renewals, reminders, contracts "
                f"and sunset cases, {scored} scorecards for last quarter, {backstage} Backstage "
                "entities written."
            )
        )
        self.stdout.write(
            "Demo users (password 'appkeeper'): alice, bob (support-tools), carol (field-ops), "
            "pat (platform-team), fin (finance); dave has left"
        )

    def _regions(self) -> dict[str, Region]:
        out = {}
        for code, name, jurisdiction, sovereign, pci in REGIONS:
            out[code], _ = Region.objects.update_or_create(
                code=code,
                defaults={
                    "name": name,
                    "jurisdiction": jurisdiction,
                    "sovereign": sovereign,
                    "pci": pci,
                },
            )
        return out

    def _teams(self) -> dict[str, Team]:
        out = {}
        for slug, name, cost_center, email, channel in TEAMS:
            out[slug], _ = Team.objects.update_or_create(
                slug=slug,
                defaults={
                    "name": name,
                    "cost_center": cost_center,
                    "contact_email": email,
                    "chat_channel": channel,
                },
            )
        return out

    def _users(self, teams: dict[str, Team]) -> dict:
        User = get_user_model()
        out = {}
        for username, first, last, team_slugs, groups in USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@example.com",
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save()
            for slug in team_slugs:
                teams[slug].members.add(user)
            if groups:
                user.groups.add(*self._groups(groups))
                # As ``grant_role`` does: the admin lets only staff in, and the role
                # group's permissions decide what they see there. Set on every run, so a
                # demo user created before (or by hand) can use the admin too.
                if not user.is_staff:
                    user.is_staff = True
                    user.save(update_fields=["is_staff"])
            out[username] = user
        return out

    @staticmethod
    def _groups(names: list[str]) -> list[Group]:
        """The role groups, which catalog's migrations create with their admin permissions."""
        found = list(Group.objects.filter(name__in=names))
        if len(found) != len(names):
            raise CommandError(f"Missing groups {names}: run `manage.py migrate` first.")
        return found

    def _apps(self, teams, users, regions, now) -> list[tuple[MicroApp, Spec, Timeline]]:
        """Create the story's apps that do not exist yet, with their dates and secret."""
        rng = random.Random(42)
        created = []
        existing = set(MicroApp.objects.values_list("slug", flat=True))
        for index, spec in enumerate(FLEET):
            if spec.slug in existing:
                continue
            team_slug = OWNER_TEAMS[spec.owner]
            if spec.pii:
                codes = ["eu-central", "eu-sovereign"] if not spec.payment else ["eu-central"]
            elif spec.payment:
                codes = ["eu-central", "us-east"]  # PCI-certified
            else:
                codes = sorted(rng.sample(list(regions), 2))
            profile = app_profile(index, slug=spec.slug, team_slug=team_slug, handles_pii=spec.pii)
            profile.update(criticality=spec.criticality, environment=spec.environment)
            if "sla" in spec.missing:
                profile.update(sla_availability=None, sla_p95_ms=None, sla_support_hours="")
            else:  # the go-live gate asks every app for an SLA
                profile.update(
                    sla_availability=Decimal("99.5"), sla_p95_ms=300, sla_support_hours="business"
                )
            if spec.exposed:  # exposed apps need a runbook (policy exposed-needs-contract-...)
                profile["runbook_url"] = f"https://runbooks.example.com/{spec.slug}"
            story = timeline(spec, now)
            app = MicroApp.objects.create(
                name=spec.name,
                slug=spec.slug,
                description=f"{spec.name}: a {profile['kind']} built by {team_slug} "
                "to save the team a few hours a week.",
                team=teams[team_slug],
                owner=users[spec.owner],
                contact=teams[team_slug].chat_channel,
                handles_pii=spec.pii,
                handles_payment_data=spec.payment,
                externally_exposed=spec.exposed,
                **profile,
                tags=[profile["kind"], team_slug],
                state=spec.state,
                went_live_at=story.went_live_at,
                expires_at=story.expires_at,
                last_seen_at=story.last_seen_at,
                retired_at=story.retired_at,
                retired_reason=RETIRED_REASON if story.retired_at else "",
                # Registration issues the secret; the demo keeps it nowhere, so trying the
                # telemetry snippets starts with Rotate, as it would for a lost secret.
                ingestion_secret=new_secret(),
            )
            app.regions.set([regions[c] for c in codes])
            # Registered when the story says, not when the demo was loaded.
            MicroApp.objects.filter(pk=app.pk).update(created_at=story.registered_at)
            created.append((app, spec, story))
        slugs = {a.slug: a for a in MicroApp.objects.filter(slug__in=[s.slug for s in FLEET])}
        for a, b, uses, version_range in DEPENDENCIES:
            if a in slugs and b in slugs:
                # Set on every run, so a demo loaded before links had uses and ranges gets
                # them too; a rerun writes the same values.
                Dependency.objects.update_or_create(
                    from_microapp=slugs[a],
                    to_microapp=slugs[b],
                    defaults={"uses": uses, "version_range": version_range},
                )
        return created

    def _usage(self, start: date, now) -> int:
        """Daily usage for every demo app that went live, from the later of ``start`` and
        its first full day live to its last telemetry (its retirement, for retired apps),
        one row per region and day without gaps; rows already there are kept."""
        yesterday = now.date() - timedelta(days=1)
        specs = {spec.slug: spec for spec in FLEET}
        apps = MicroApp.objects.filter(slug__in=specs, went_live_at__isnull=False)
        existing = set(
            UsageReport.objects.filter(app__in=apps, date__gte=start).values_list(
                "app_id", "region_id", "date"
            )
        )
        rows = []
        for app in apps.prefetch_related("regions"):
            assert app.went_live_at is not None and app.last_seen_at is not None
            rng = random.Random(app.slug)
            base = 0.4 if specs[app.slug].low_usage else rng.choice([60, 400, 4000, 25000])
            first = max(start, app.went_live_at.date() + timedelta(days=1))
            last = min(yesterday, app.last_seen_at.date())
            for region in app.regions.all():
                day = first
                while day <= last:
                    # Draw every number even for rows that exist, so a rerun makes the
                    # same choices for the rows that do not.
                    requests = int(base * rng.uniform(0.5, 1.5))
                    errors = requests // rng.randint(50, 500)
                    p95 = rng.uniform(80, 900)
                    if (app.pk, region.pk, day) not in existing:
                        rows.append(
                            UsageReport(
                                app=app,
                                region=region,
                                date=day,
                                requests=requests,
                                errors=errors,
                                p95_ms=p95,
                                cost=(Decimal(requests) * Decimal("0.0004")).quantize(
                                    Decimal("0.0001")
                                ),
                            )
                        )
                    day += timedelta(days=1)
        UsageReport.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        return len(rows)

    def _history(self, created, users, now) -> int:
        """What happened to each new app, at the time it happened: reviews, renewals,
        reminders (and their notifications), expiry, sunset cases, retirement, contracts
        and the audit trail. Only for apps created by this run, so a rerun adds nothing."""
        pat = users["pat"]
        events: list[AuditEvent] = []
        reviews, renewals, reminders, cases, notes = [], [], [], [], []

        def event(app, actor, action, at, before=None, after=None, comment=""):
            row = AuditEvent.build(
                app=app,
                actor=actor,
                action=action,
                changes={"state": [before, after]} if after else None,
                comment=comment,
            )
            row.at = at
            events.append(row)

        for app, spec, t in created:
            owner = app.owner
            event(app, owner, "created", t.registered_at, None, AppState.DRAFT, "Demo data")
            if t.submitted_at is not None and spec.high_risk:
                event(app, owner, "submitted", t.submitted_at, AppState.DRAFT, AppState.IN_REVIEW)
                review = Review(
                    app=app,
                    requested_by=owner,
                    requested_at=t.submitted_at,
                    due_at=t.submitted_at + timedelta(hours=settings.APPKEEPER_REVIEW_HOURS),
                )
                if t.went_live_at is not None:
                    review.reviewer, review.decision = pat, ReviewDecision.APPROVED
                    review.decided_at = t.went_live_at
                    review.comment = "Checked the data flows and the regions: approved."
                elif review.due_at <= now:  # the hourly job escalated it when it fell due
                    review.escalated_at = review.due_at + timedelta(minutes=30)
                reviews.append(review)
            if t.went_live_at is not None:
                before = AppState.IN_REVIEW if spec.high_risk else AppState.DRAFT
                actor = pat if spec.high_risk else owner
                event(app, actor, "activated", t.went_live_at, before, AppState.ACTIVE)
            for renewed_at, previous, expires_at in t.renewals:
                renewals.append(
                    Renewal(
                        app=app,
                        renewed_by=owner,
                        justification="Still used every day by the team; owner confirmed "
                        "at the quarterly review.",
                        renewed_at=renewed_at,
                        previous_state=AppState.ACTIVE,
                        previous_expires_at=previous,
                        expires_at=expires_at,
                    )
                )
                event(app, owner, "renewed", renewed_at, comment="Demo renewal")
            reminders += [
                Reminder(app=app, expires_at=expires_at, days_before=days, sent_at=sent_at)
                for expires_at, days, sent_at in t.reminders
            ]
            notes += self._reminder_notes(app, t)
            if t.expired_at is not None:
                event(app, None, "expired", t.expired_at, AppState.ACTIVE, AppState.EXPIRED)
            if t.case_opened_at is not None:
                cases.append(self._case(app, spec, t, now))
                before = AppState.ACTIVE if spec.low_usage else AppState.EXPIRED
                event(app, None, "sunset_started", t.case_opened_at, before, AppState.SUNSETTING)
            if t.retired_at is not None:
                event(
                    app,
                    None,
                    "retired",
                    t.retired_at,
                    AppState.SUNSETTING,
                    AppState.RETIRED,
                    RETIRED_REASON,
                )
        AuditEvent.objects.bulk_create(events)
        Review.objects.bulk_create(reviews)
        Renewal.objects.bulk_create(renewals)
        Reminder.objects.bulk_create(reminders)
        SunsetCase.objects.bulk_create(cases)
        queue(notes)
        escalated = escalations(created, now)
        contracts = 0
        for app, spec, _t in created:
            if "contract" not in spec.missing:
                contract_upload(app=app, actor=app.owner, content=json.dumps(demo_spec(app)))
                contracts += 1
        contracts += contract_story({app.slug: app for app, _s, _t in created}, users, now)
        return len(reviews) + len(renewals) + len(reminders) + len(cases) + contracts + escalated

    @staticmethod
    def _reminder_notes(app: MicroApp, t: Timeline) -> list[Notification]:
        """The notifications the reminders and the expiry sent (with the daily jobs'
        dedupe keys), delivered when sent."""
        notes = []
        critical = app.criticality == Criticality.CRITICAL
        what = "re-certification" if critical else "expiry"
        for position, (expires_at, days, sent_at) in enumerate(t.reminders):
            batch = owner_notifications(
                app=app,
                kind=NoticeKind.EXPIRY_REMINDER,
                subject=f"{app.name} is due for {what} {time_left_in_words(expires_at - sent_at)}",
                body=reminder_body(app, expires_at=expires_at, critical=critical),
                dedupe_key=f"reminder:{app.pk}:{expires_at:%Y%m%dT%H%M%S}:{days}",
                link=reverse("lifecycle:app-renew", args=[app.slug]),
            )
            # Only the reminder still to act on is unread: the latest of an active app.
            unread = position == len(t.reminders) - 1 and app.state == AppState.ACTIVE
            notes += delivered(batch, sent_at, unread=unread)
        if t.expired_at is not None:
            grace_ends = t.expired_at + timedelta(days=settings.APPKEEPER_GRACE_DAYS)
            batch = owner_notifications(
                app=app,
                kind=NoticeKind.APP_EXPIRED,
                subject=f"{app.name} has expired",
                body=f"{app.name} was not renewed by {when(t.expired_at)} and is now suspended. "
                f"Renew it before {when(grace_ends)} to bring it back; after that it is sunset "
                "and then retired.",
                dedupe_key=f"expired:{app.pk}:{t.expired_at:%Y%m%dT%H%M%S}",
                link=reverse("lifecycle:app-renew", args=[app.slug]),
            )
            notes += delivered(batch, t.expired_at, unread=app.state == AppState.EXPIRED)
        return notes

    def _case(self, app: MicroApp, spec: Spec, t: Timeline, now) -> SunsetCase:
        opened = t.case_opened_at
        assert opened is not None
        answer = timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
        case = SunsetCase(app=app, opened_at=opened, grace_ends_at=opened + answer)
        if spec.low_usage:
            case.reason = SunsetReason.LOW_USAGE
            # The job's window: the complete days before the day the case opened.
            since = opened.date() - timedelta(days=USAGE_WINDOW_DAYS)
            totals = UsageReport.objects.filter(
                app=app, date__gte=since, date__lt=opened.date()
            ).aggregate(requests=Sum("requests"), errors=Sum("errors"), cost=Sum("cost"))
            case.figures = {
                "requests": totals["requests"] or 0,
                "errors": totals["errors"] or 0,
                "cost": str(totals["cost"] or 0),
                "days": USAGE_WINDOW_DAYS,
                "threshold": settings.APPKEEPER_SUNSET_MIN_REQUESTS,
            }
        else:
            case.reason = SunsetReason.EXPIRED
            assert t.expires_at is not None
            case.figures = {
                "expired_at": t.expires_at.isoformat(),
                "grace_days": settings.APPKEEPER_GRACE_DAYS,
            }
        if spec.contested:  # one contest for the platform team (pat) to decide
            case.response = SunsetResponse.CONTEST
            case.justification = "Used at quarter end for the finance close; usage is seasonal."
            case.responded_by = app.owner
            case.responded_at = min(now, opened + timedelta(days=2))
        if t.retired_at is not None:
            case.closed_at, case.outcome = t.retired_at, SunsetOutcome.RETIRED
        return case
