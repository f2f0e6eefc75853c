"""Load the demo fleet; running it again changes nothing.

It lives in ``scorecards``, the app at the top of the dependency chain, because the demo
touches every capability: catalog, lifecycle and scorecards."""

from __future__ import annotations

import json
import random
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP, AppState
from catalog.contract_services import contract_upload
from catalog.models import AuditEvent, MicroApp, Region, Review, Team
from lifecycle import services as lifecycle_services
from lifecycle.choices import SunsetReason, SunsetResponse
from lifecycle.models import Renewal, SunsetCase, UsageReport
from scorecards.demo import KINDS, app_profile
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
]
STATES = [
    *[AppState.ACTIVE] * 4,
    AppState.DRAFT,
    AppState.IN_REVIEW,
    AppState.EXPIRED,
    AppState.SUNSETTING,
    AppState.RETIRED,
]
# One demo app per name; an app's place in this list picks its owner and state.
NAMES = [
    "Ticket Router",
    "CRM Sync",
    "Refund Helper",
    "Shift Planner",
    "Invoice Bot",
    "Lead Scorer",
    "Chat Widget",
    "Survey Mailer",
    "Warranty Checker",
    "Parts Lookup",
    "Route Optimizer",
    "Visit Logger",
    "SLA Monitor",
    "Access Reviewer",
    "Cost Reporter",
    "Onboarding Flow",
    "Escalation Pager",
    "Churn Alert",
    "Quote Builder",
    "Stock Watcher",
    "Holiday Calendar",
    "Feedback Board",
    "Macro Library",
    "Returns Portal",
    "Payout Checker",
    "Field Photos",
    "Kiosk Menu",
    "Meeting Notes",
    "Badge Printer",
    "Vendor Portal",
    "Slack Digest",
    "Knowledge Sync",
    "Uptime Badge",
    "Order Tracker",
    "Fraud Flagger",
    "Language Detector",
]


class Command(BaseCommand):
    help = "Load demo regions, teams, users, apps and 90 days of usage (idempotent)."

    def add_arguments(self, parser):
        parser.add_argument("--usage-days", type=int, default=90)

    def handle(self, *args, usage_days: int, **options):
        if settings.PRODUCTION:
            raise CommandError("Demo data (with its known passwords) is for development only.")
        with transaction.atomic():
            regions = self._regions()
            teams = self._teams()
            users = self._users(teams)
            created = self._apps(teams, users, regions)
            usage = self._usage(regions, usage_days)
            lifecycle = self._lifecycle(users)
            # Last quarter's scorecards, so the scorecards pages have a quarter to show
            # (recomputing a quarter replaces its rows: idempotent).
            scored = scorecards_compute(quarter=previous_quarter()).scored
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready: {len(regions)} regions, {len(teams)} teams, {len(users)} users, "
                f"{MicroApp.objects.count()} apps ({created} new), {usage} new usage rows, "
                f"{lifecycle} new renewals, reviews, contracts and sunset cases, "
                f"{scored} scorecards for last quarter."
            )
        )
        self.stdout.write(
            "Demo users (password 'appkeeper'): alice, bob (support-tools), carol (field-ops), "
            "pat (platform-team), fin (finance)"
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

    def _apps(self, teams, users, regions) -> int:
        rng = random.Random(42)
        now = timezone.now()
        owners = [
            ("support-tools", "alice"),
            ("support-tools", "bob"),
            ("field-ops", "carol"),
            ("platform", "pat"),
        ]
        created_count = 0
        for index, name in enumerate(NAMES):
            slug = name.lower().replace(" ", "-")
            if MicroApp.objects.filter(slug=slug).exists():
                continue
            team_slug, owner = owners[index % len(owners)]
            state = STATES[index % len(STATES)]
            pii = index % 4 == 0
            payment = index % 7 == 3
            exposed = index % 5 == 2
            region_codes = ["eu-central"] if pii or payment else rng.sample(list(regions), 2)
            live_days = rng.randint(10, 200)
            app = MicroApp.objects.create(
                name=name,
                slug=slug,
                description=f"{name}: a {KINDS[index % 5]} built by {team_slug} "
                "to save the team a few hours a week.",
                team=teams[team_slug],
                owner=users[owner],
                contact=teams[team_slug].chat_channel,
                handles_pii=pii,
                handles_payment_data=payment,
                externally_exposed=exposed,
                **app_profile(index, slug=slug, team_slug=team_slug, handles_pii=pii),
                tags=[KINDS[index % 5], team_slug],
                state=state,
            )
            app.regions.set([regions[c] for c in region_codes])
            if state != AppState.DRAFT and state != AppState.IN_REVIEW:
                app.went_live_at = now - timedelta(days=live_days)
                app.expires_at = {
                    AppState.ACTIVE: now + timedelta(days=rng.choice([3, 12, 25, 45, 80])),
                    AppState.EXPIRED: now - timedelta(days=5),
                    AppState.SUNSETTING: now - timedelta(days=35),
                    AppState.RETIRED: now - timedelta(days=60),
                }[state]
                app.last_seen_at = now - timedelta(hours=rng.randint(1, 72))
                if state == AppState.RETIRED:
                    app.retired_at = now - timedelta(days=20)
                    app.retired_reason = "No longer used after the CRM migration."
                app.save()
            AuditEvent.record(
                app=app,
                actor=users[owner],
                action="created",
                changes={"state": [None, "draft"]},
                comment="Demo data",
            )
            created_count += 1
        slugs = {a.slug: a for a in MicroApp.objects.all()}
        dependencies = [
            ("ticket-router", "crm-sync"),
            ("refund-helper", "crm-sync"),
            ("escalation-pager", "ticket-router"),
            ("churn-alert", "lead-scorer"),
        ]
        for a, b in dependencies:
            if a in slugs and b in slugs:
                slugs[a].depends_on.add(slugs[b])
        return created_count

    def _usage(self, regions, days: int) -> int:
        today = timezone.now().date()
        existing = set(
            UsageReport.objects.filter(date__gte=today - timedelta(days=days)).values_list(
                "app_id", "region_id", "date"
            )
        )
        rows = []
        apps = MicroApp.objects.exclude(state__in=[AppState.DRAFT, AppState.IN_REVIEW])
        for app in apps.prefetch_related("regions"):
            rng = random.Random(app.slug)
            base = rng.choice([0, 5, 40, 400, 4000])
            for region in app.regions.all():
                for offset in range(1, days + 1):
                    day = today - timedelta(days=offset)
                    # Draw every number even for rows that exist, so a rerun makes the
                    # same choices for the rows that do not.
                    gap = rng.random() < 0.1
                    requests = max(0, int(base * rng.uniform(0.5, 1.5)))
                    errors = requests // rng.randint(50, 500)
                    p95 = rng.uniform(80, 900)
                    if gap or (app.pk, region.pk, day) in existing:
                        continue
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
        UsageReport.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
        return len(rows)

    def _lifecycle(self, users) -> int:
        """Renewals, reminders and sunset cases, so every lifecycle screen has something to
        show. Each is created only when the app has none, so a rerun adds nothing."""
        now = timezone.now()
        grace = timedelta(days=settings.APPKEEPER_SUNSET_RESPONSE_DAYS)
        created = 0
        renewed = set(Renewal.objects.values_list("app_id", flat=True))
        with_case = set(SunsetCase.objects.values_list("app_id", flat=True))
        apps = MicroApp.objects.select_related("owner").order_by("pk")
        for index, app in enumerate(apps):
            if app.state == AppState.ACTIVE and index % 3 == 0 and app.pk not in renewed:
                Renewal.objects.create(
                    app=app,
                    renewed_by=app.owner,
                    justification="Still used every day by the team; owner confirmed at the "
                    "quarterly review.",
                    renewed_at=now - timedelta(days=40),
                    previous_state=AppState.ACTIVE,
                    previous_expires_at=app.expires_at - timedelta(days=90),
                    expires_at=app.expires_at,
                )
                created += 1
            if app.state == AppState.SUNSETTING and app.pk not in with_case:
                low_usage = index % 2 == 1
                if low_usage:
                    figures = {
                        "requests": 42,
                        "errors": 0,
                        "cost": "0.02",
                        "days": 90,
                        "threshold": settings.APPKEEPER_SUNSET_MIN_REQUESTS,
                    }
                else:
                    figures = {"expired_at": app.expires_at.isoformat(), "grace_days": 30}
                case = SunsetCase.objects.create(
                    app=app,
                    reason=SunsetReason.LOW_USAGE if low_usage else SunsetReason.EXPIRED,
                    opened_at=now - timedelta(days=4),
                    grace_ends_at=now - timedelta(days=4) + grace,
                    figures=figures,
                )
                if low_usage:
                    # One contest for the platform team (pat) to decide.
                    case.response = SunsetResponse.CONTEST
                    case.justification = (
                        "Used at quarter end for the finance close; usage is seasonal."
                    )
                    case.responded_by = app.owner
                    case.responded_at = now - timedelta(days=2)
                    case.save()
                created += 1
        # An open review for every app waiting in review, the first one already overdue,
        # so the platform team's queue shows both cases.
        reviewed = set(Review.objects.values_list("app_id", flat=True))
        waiting = [a for a in apps if a.state == AppState.IN_REVIEW and a.pk not in reviewed]
        for position, app in enumerate(waiting):
            requested = now - timedelta(hours=60 if position == 0 else 6 + position)
            Review.objects.create(
                app=app,
                requested_by=app.owner,
                requested_at=requested,
                due_at=requested + timedelta(hours=settings.APPKEEPER_REVIEW_HOURS),
            )
            created += 1
        # A small OpenAPI contract for two apps in three (identical content is never
        # stored twice, so a rerun adds nothing).
        for index, app in enumerate(apps):
            if index % 3 != 2 and not app.contracts.exists():
                contract_upload(app=app, actor=app.owner, content=json.dumps(_demo_spec(app)))
                created += 1
        # Reminders for apps expiring within 30 days (unique per period: idempotent).
        lifecycle_services.reminders_send(now=now)
        return created


def _demo_spec(app: MicroApp) -> dict:
    """A minimal valid OpenAPI 3.1 document for a demo app."""
    item = {
        "type": "object",
        "required": ["id"],
        "properties": {"id": {"type": "string"}, "status": {"type": "string"}},
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": f"{app.name} API", "version": "1.0.0"},
        "paths": {
            f"/{app.slug}/items": {
                "get": {
                    "operationId": "listItems",
                    "parameters": [
                        {
                            "name": "limit",
                            "in": "query",
                            "required": False,
                            "schema": {"type": "integer", "maximum": 100},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "The items",
                            "content": {
                                "application/json": {"schema": {"type": "array", "items": item}}
                            },
                        }
                    },
                }
            }
        },
    }
