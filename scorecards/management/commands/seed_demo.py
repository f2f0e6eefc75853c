"""Seed a fleet at scale for benchmarks: ``manage.py seed_demo --apps 10000 --days 180``.

1. Load the demo cast (``load_demo``): regions, teams, alice/bob/carol/pat/fin.
2. Add seeded teams (one per 100 apps) and users, and four more regions.
3. Bulk-insert the apps (``seed-app-00001``...) in every lifecycle state, with regions,
   a sparse dependency graph, a contract for every app past draft, and reviews for the
   high-risk ones (some open and overdue), and sunset cases for sunsetting apps.
4. Insert daily usage for every app that went live: one row per app, region and day, with
   PostgreSQL ``COPY`` (about 1.8 million rows for 10k apps and 180 days in well under a
   minute), or ``bulk_create`` on SQLite.

Running it again does nothing while seeded apps exist; ``--reset`` deletes the seeded apps
and everything that points at them first. Seeded data is recognisable by its ``seed-``
prefix, so the demo fleet and real data are never touched.
"""

from __future__ import annotations

import base64
import io
import random
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.apps import apps as django_apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone

from catalog.choices import AppState
from catalog.models import AuditEvent, Contract, MicroApp, Region, Review, Team
from lifecycle.models import UsageReport
from scorecards.demo import KINDS, app_profile

PREFIX = "seed-"
EXTRA_REGIONS = [
    ("ch-north", "CH North (Zurich)", "CH", True, False),
    ("ca-central", "CA Central (Montreal)", "CA", False, True),
    ("ap-south", "AP South (Singapore)", "APAC", False, False),
    ("us-west", "US West (Oregon)", "US", False, True),
]
# (state, share of the fleet); every state appears.
STATE_MIX = [
    (AppState.ACTIVE, 0.55),
    (AppState.DRAFT, 0.10),
    (AppState.IN_REVIEW, 0.08),
    (AppState.EXPIRED, 0.10),
    (AppState.SUNSETTING, 0.07),
    (AppState.RETIRED, 0.10),
]
WORDS = [
    "ticket",
    "crm",
    "refund",
    "shift",
    "invoice",
    "lead",
    "chat",
    "survey",
    "warranty",
    "parts",
    "route",
    "visit",
    "sla",
    "access",
    "cost",
    "onboarding",
    "escalation",
    "churn",
    "quote",
    "stock",
    "holiday",
    "feedback",
    "macro",
    "returns",
    "payout",
    "photo",
    "kiosk",
]
OPENAPI_DOC = {
    "openapi": "3.0.3",
    "info": {"title": "Seeded app", "version": "1.0.0"},
    "paths": {
        "/health": {"get": {"responses": {"200": {"description": "Healthy."}}}},
        "/items": {
            "get": {"responses": {"200": {"description": "The items."}}},
            "post": {"responses": {"201": {"description": "Created."}}},
        },
    },
}


class Command(BaseCommand):
    help = "Seed N apps with D days of daily usage for benchmarks (idempotent; --reset)."

    def add_arguments(self, parser):
        parser.add_argument("--apps", type=int, default=10_000)
        parser.add_argument("--days", type=int, default=180)
        parser.add_argument("--reset", action="store_true", help="Delete seeded data first.")
        parser.add_argument("--seed", type=int, default=8)

    def handle(self, *args, apps: int, days: int, reset: bool, seed: int, **options):
        if settings.PRODUCTION:
            raise CommandError("Seed data (with known passwords) is for development only.")
        if apps < 1 or days < 0:
            raise CommandError("--apps must be at least 1 and --days not negative.")
        self.rng = random.Random(seed)
        started = time.monotonic()
        if reset:
            self._reset()
        if MicroApp.objects.filter(slug__startswith=PREFIX).exists():
            count = MicroApp.objects.filter(slug__startswith=PREFIX).count()
            self.stdout.write(f"Already seeded ({count} apps); run with --reset to start over.")
            return
        self._step(
            "demo cast", lambda: call_command("load_demo", usage_days=0, stdout=io.StringIO())
        )
        regions = self._step("regions", self._regions)
        teams, users = self._step("teams and users", lambda: self._teams(apps))
        with transaction.atomic():
            app_rows = self._step(f"{apps} apps", lambda: self._apps(apps, teams, users, regions))
            self._step("contracts, reviews, sunset cases, audit", lambda: self._history(app_rows))
        rows = self._step(f"usage for {days} days", lambda: self._usage(app_rows, days))
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {apps} apps and {rows} usage rows in {time.monotonic() - started:.1f}s."
            )
        )

    # --- plumbing ----------------------------------------------------------------------

    def _step(self, label: str, fn):
        start = time.monotonic()
        self.stdout.write(f"  {label}...", ending="")
        self.stdout.flush()
        result = fn()
        self.stdout.write(f" {time.monotonic() - start:.1f}s")
        return result

    def _reset(self) -> None:
        """Delete seeded apps and every row that points at them, model by model."""
        seeded = MicroApp.objects.filter(slug__startswith=PREFIX)
        ids = list(seeded.values_list("pk", flat=True))
        if ids:
            self.stdout.write(f"  deleting {len(ids)} seeded apps and their history...")
            with transaction.atomic():
                for model in django_apps.get_models():
                    if model is MicroApp:
                        continue
                    for field in model._meta.get_fields():
                        if (
                            getattr(field, "many_to_one", False)
                            and field.related_model is MicroApp
                            and field.concrete
                        ):
                            qs = model.objects.filter(**{f"{field.name}__in": ids})
                            qs.delete()
                MicroApp.depends_on.through.objects.filter(from_microapp_id__in=ids).delete()
                MicroApp.depends_on.through.objects.filter(to_microapp_id__in=ids).delete()
                MicroApp.regions.through.objects.filter(microapp_id__in=ids).delete()
                seeded.delete()
        Team.objects.filter(slug__startswith=PREFIX, apps__isnull=True).delete()
        get_user_model().objects.filter(username__startswith=PREFIX).delete()

    # --- reference data ----------------------------------------------------------------

    def _regions(self) -> list[Region]:
        for code, name, jurisdiction, sovereign, pci in EXTRA_REGIONS:
            Region.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "jurisdiction": jurisdiction,
                    "sovereign": sovereign,
                    "pci": pci,
                },
            )
        return list(Region.objects.order_by("code"))

    def _teams(self, apps: int):
        count = max(3, apps // 100)
        Team.objects.bulk_create(
            [
                Team(
                    name=f"Seed Team {i:03d}",
                    slug=f"{PREFIX}team-{i:03d}",
                    cost_center=f"CC-{5000 + i}",
                    contact_email=f"seed-team-{i:03d}@example.com",
                    chat_channel=f"#seed-team-{i:03d}",
                )
                for i in range(count)
            ],
            ignore_conflicts=True,
        )
        teams = list(Team.objects.filter(slug__startswith=PREFIX).order_by("slug"))
        User = get_user_model()
        password = make_password("appkeeper")  # hash once, not per user
        User.objects.bulk_create(
            [
                User(
                    username=f"{PREFIX}user-{i:04d}",
                    email=f"seed-user-{i:04d}@example.com",
                    password=password,
                )
                for i in range(count * 2)
            ],
            ignore_conflicts=True,
        )
        users = list(User.objects.filter(username__startswith=PREFIX).order_by("username"))
        Membership = Team.members.through
        Membership.objects.bulk_create(
            [Membership(team_id=teams[i // 2].pk, user_id=user.pk) for i, user in enumerate(users)],
            ignore_conflicts=True,
        )
        return teams, users

    # --- apps --------------------------------------------------------------------------

    def _apps(self, n: int, teams, users, regions) -> list[dict]:
        rng = self.rng
        now = timezone.now()
        states = []
        for state, share in STATE_MIX:
            states += [state] * round(n * share)
        states = (states + [AppState.ACTIVE] * n)[:n]
        rng.shuffle(states)
        by_jurisdiction: dict[str, list[Region]] = {}
        for region in regions:
            by_jurisdiction.setdefault(region.jurisdiction, []).append(region)
        pci_regions = [r for r in regions if r.pci]
        objs, region_choice = [], []
        for i in range(n):
            state = states[i]
            team_index = i % len(teams)
            team = teams[team_index]
            owner = users[team_index * 2 + (i % 2)]
            pii = i % 4 == 0
            payment = i % 11 == 3
            exposed = i % 6 == 2
            if payment:
                chosen = [rng.choice(pci_regions)]
            elif pii:
                chosen = [rng.choice(by_jurisdiction["EU"])]
            else:
                chosen = rng.sample(regions, 2 if i % 5 == 0 else 1)
            went_live = expires = last_seen = retired_at = None
            if state not in (AppState.DRAFT, AppState.IN_REVIEW):
                went_live = now - timedelta(days=rng.randint(30, 400))
                expires = {
                    AppState.ACTIVE: now + timedelta(days=rng.randint(1, 90)),
                    AppState.EXPIRED: now - timedelta(days=rng.randint(1, 29)),
                    AppState.SUNSETTING: now - timedelta(days=rng.randint(31, 60)),
                    AppState.RETIRED: now - timedelta(days=rng.randint(61, 200)),
                }[state]
                if state != AppState.RETIRED and rng.random() < 0.9:
                    last_seen = now - timedelta(minutes=rng.randint(5, 60 * 24 * 10))
                if state == AppState.RETIRED:
                    retired_at = expires + timedelta(days=30)
            slug = f"{PREFIX}app-{i + 1:05d}"
            word = WORDS[i % len(WORDS)]
            objs.append(
                MicroApp(
                    name=f"{word.title()} {i + 1:05d}",
                    slug=slug,
                    description=f"Seeded {KINDS[i % 5]} number {i + 1} for {team.name}.",
                    team=team,
                    owner=owner,
                    contact=team.chat_channel,
                    handles_pii=pii,
                    handles_payment_data=payment,
                    externally_exposed=exposed,
                    **app_profile(i, slug=slug, team_slug=team.slug, handles_pii=pii),
                    tags=[KINDS[i % 5], word],
                    state=state,
                    went_live_at=went_live,
                    expires_at=expires,
                    last_seen_at=last_seen,
                    retired_at=retired_at,
                    retired_reason="Seeded: retired." if retired_at else "",
                    ingestion_secret="whsec_" + base64.b64encode(rng.randbytes(24)).decode(),
                )
            )
            region_choice.append(chosen)
        created = MicroApp.objects.bulk_create(objs, batch_size=2000)
        if not all(app.pk for app in created):  # backends without RETURNING
            by_slug = dict(
                MicroApp.objects.filter(slug__startswith=PREFIX).values_list("slug", "pk")
            )
            for app in created:
                app.pk = by_slug[app.slug]
        # Registered when their "created" audit event says (five days before going live),
        # not today: a quarter's scorecards only take apps registered before it ended.
        seeded = MicroApp.objects.filter(slug__startswith=PREFIX)
        seeded.filter(went_live_at__isnull=False).update(
            created_at=F("went_live_at") - timedelta(days=5)
        )
        seeded.filter(went_live_at__isnull=True).update(created_at=now - timedelta(days=5))
        through = MicroApp.regions.through
        through.objects.bulk_create(
            [
                through(microapp_id=app.pk, region_id=region.pk)
                for app, chosen in zip(created, region_choice, strict=True)
                for region in chosen
            ],
            batch_size=5000,
        )
        deps = MicroApp.depends_on.through
        edges = set()
        for index in range(20, len(created)):
            if rng.random() < 0.15:
                for _ in range(rng.randint(1, 2)):
                    target = rng.randrange(max(0, index - 500), index)
                    edges.add((created[index].pk, created[target].pk))
        deps.objects.bulk_create(
            [deps(from_microapp_id=a, to_microapp_id=b) for a, b in edges], batch_size=5000
        )
        return [
            {
                "pk": app.pk,
                "state": app.state,
                "went_live_at": app.went_live_at,
                "high_risk": app.is_high_risk,
                "owner_id": app.owner_id,
                "regions": [r.pk for r in chosen],
                "retired_at": app.retired_at,
            }
            for app, chosen in zip(created, region_choice, strict=True)
        ]

    def _history(self, rows: list[dict]) -> None:
        rng = self.rng
        now = timezone.now()
        document_sha = Contract.digest(str(OPENAPI_DOC))
        contracts, reviews, audits, cases = [], [], [], []
        SunsetCase = _optional_model("lifecycle", "SunsetCase")
        for row in rows:
            state = row["state"]
            if state != AppState.DRAFT:
                contracts.append(
                    Contract(
                        app_id=row["pk"],
                        kind="openapi",
                        version="1.0.0",
                        document=OPENAPI_DOC,
                        sha256=document_sha,
                        spec_version="3.0",
                        is_valid=True,
                        author_id=row["owner_id"],
                        created_at=(row["went_live_at"] or now) - timedelta(days=3),
                    )
                )
            decided = {}
            if row["high_risk"] and state == AppState.IN_REVIEW:
                requested = now - timedelta(hours=rng.randint(1, 120))
            elif row["high_risk"] and row["went_live_at"]:
                requested = row["went_live_at"] - timedelta(days=2)
                decided = {
                    "decision": "approved",
                    "decided_at": row["went_live_at"],
                    "comment": "Seeded approval.",
                }
            else:
                requested = None
            if requested is not None:
                reviews.append(
                    Review(
                        app_id=row["pk"],
                        requested_by_id=row["owner_id"],
                        requested_at=requested,
                        due_at=requested + timedelta(hours=48),
                        **decided,
                    )
                )
            if state == AppState.SUNSETTING and SunsetCase is not None:
                opened = now - timedelta(days=rng.randint(1, 13))
                cases.append(
                    SunsetCase(
                        app_id=row["pk"],
                        reason="expired",
                        opened_at=opened,
                        grace_ends_at=opened + timedelta(days=14),
                    )
                )
            audits.append(
                AuditEvent(
                    app_id=row["pk"],
                    actor_id=row["owner_id"],
                    action="created",
                    at=(row["went_live_at"] or now) - timedelta(days=5),
                    changes={"state": [None, "draft"]},
                    comment="Seeded",
                )
            )
        Contract.objects.bulk_create(contracts, batch_size=2000)
        Review.objects.bulk_create(reviews, batch_size=2000)
        AuditEvent.objects.bulk_create(audits, batch_size=2000)
        if cases:
            SunsetCase.objects.bulk_create(cases, batch_size=2000)

    # --- usage -------------------------------------------------------------------------

    def _usage(self, rows: list[dict], days: int) -> int:
        """One row per live-ever app, region and day: COPY on PostgreSQL."""
        rng = self.rng
        today = timezone.now().date()
        now_text = datetime.now(UTC).isoformat()
        dates = [today - timedelta(days=offset) for offset in range(1, days + 1)]
        total = 0

        def generate():
            nonlocal total
            for row in rows:
                if row["went_live_at"] is None:
                    continue
                live_from = row["went_live_at"].date()
                until = row["retired_at"].date() if row["retired_at"] else today
                base = rng.choice([0, 3, 20, 150, 1500, 15000])
                for region_id in row["regions"]:
                    for day in dates:
                        if day < live_from or day > until:
                            continue
                        requests = int(base * (0.5 + rng.random()))
                        errors = requests // 200
                        p95 = round(80 + rng.random() * 800, 1)
                        cost = f"{requests * 0.0004:.4f}"
                        total += 1
                        yield (row["pk"], region_id, day, requests, errors, p95, cost)

        if connection.vendor == "postgresql":
            table = UsageReport._meta.db_table
            sql = (
                f"COPY {table} (app_id, region_id, date, requests, errors, p95_ms, cost, "
                "updated_at) FROM STDIN"
            )
            with transaction.atomic(), connection.cursor() as cursor, cursor.copy(sql) as copy:
                for app_id, region_id, day, requests, errors, p95, cost in generate():
                    copy.write(
                        f"{app_id}\t{region_id}\t{day.isoformat()}\t{requests}\t{errors}\t"
                        f"{p95}\t{cost}\t{now_text}\n"
                    )
                    if total % 250_000 == 0:
                        self.stdout.write(f" {total // 1000}k", ending="")
                        self.stdout.flush()
            with connection.cursor() as cursor:
                cursor.execute(f"ANALYZE {table}")
            return total
        batch = []
        for app_id, region_id, day, requests, errors, p95, cost in generate():
            batch.append(
                UsageReport(
                    app_id=app_id,
                    region_id=region_id,
                    date=day,
                    requests=requests,
                    errors=errors,
                    p95_ms=p95,
                    cost=Decimal(cost),
                )
            )
            if len(batch) >= 5000:
                UsageReport.objects.bulk_create(batch, ignore_conflicts=True)
                batch = []
        UsageReport.objects.bulk_create(batch, ignore_conflicts=True)
        return total


def _optional_model(app_label: str, name: str):
    try:
        return django_apps.get_model(app_label, name)
    except LookupError:
        return None
