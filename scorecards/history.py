"""The fleet as it stood at a period's end: which apps belong on it and what each looked like.

A quarter's scorecard is what was true inside the quarter. Recomputing a closed quarter a
year later must give the same rows, so nothing here reads a column that has moved on since
(``last_seen_at``, the app's current description, owner or team) without first winding it
back to the period's end:

- **who is scored**: apps live at some moment of ``[start, end)``. "Live" is the registry's
  own word (``MicroApp.objects.live()``): registered and not retired, drafts included, so an
  app counts from ``created_at`` until ``retired_at``.
- **what they looked like**: the audited fields the rubric reads (description, docs and
  runbook links, owner, team, whether it was orphaned) are taken back through the audit
  trail: the first change recorded at or after the end holds, as its "before" value, what
  the field was at the end.
- **their last heartbeat**: the latest accepted delivery, stored usage report or
  ``last_seen_at`` before the end, or the heartbeat a previous run of the same quarter
  recorded (delivery ids are pruned after 7 days, so a rerun may no longer see them).

Each input is one query for the whole fleet, whatever its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db.models import Max, Q, QuerySet
from django.utils.dateparse import parse_datetime

from catalog.choices import AppState
from catalog.models import AuditEvent, Dependency, MicroApp, Team
from lifecycle.models import TelemetryDelivery, UsageReport
from scorecards.periods import Period

# The audited fields a score depends on. Owner and team are recorded by username and slug,
# the apps it calls (``depends_on``) by their slugs; ``orphaned`` (the owner left and nobody
# took the app over) is recorded by the hand-over that flags it and the move that clears it.
SCORED_FIELDS = (
    "description",
    "docs_url",
    "runbook_url",
    "owner",
    "team",
    "depends_on",
    "orphaned",
)


def live_during(period: Period) -> Q:
    """Apps live at some moment of the period: registered before its end, not retired before
    its start. A retired app without a retirement time has no moment to place it, and was
    never scored under the old rule either; it stays out."""
    not_retired = Q(retired_at__isnull=True) & ~Q(state=AppState.RETIRED)
    return Q(created_at__lt=period.end_dt) & (Q(retired_at__gte=period.start_dt) | not_retired)


def scorable_apps(period: Period) -> QuerySet[MicroApp]:
    """Apps that belong on a period's scorecards: live at some moment within it."""
    return MicroApp.objects.filter(live_during(period))


def wind_back(apps: list[MicroApp], apps_qs: QuerySet[MicroApp], cutoff: datetime) -> None:
    """Set the scored fields of ``apps`` (in memory, never saved) to their values at
    ``cutoff``, from the audit trail: one query for the events, one per related kind named.

    An app whose owner or team was renamed since, so the recorded username or slug no
    longer exists, keeps its current owner or team: a guess would be worse.
    """
    if not apps:
        return
    by_pk = {app.pk: app for app in apps}
    events = (
        AuditEvent.objects.filter(
            app__in=apps_qs.values("pk"),
            at__gte=cutoff,
            changes__has_any_keys=list(SCORED_FIELDS),
        )
        # A creation has no "before"; an app created before the cutoff but recorded after
        # it (a backdated import) is not a change to undo.
        .exclude(action="created")
        .order_by("app_id", "at", "pk")
        .values_list("app_id", "changes")
    )
    then: dict[int, dict[str, object]] = {}
    for app_id, changes in events:
        if app_id not in by_pk:
            continue
        fields = then.setdefault(app_id, {})
        for name in SCORED_FIELDS:
            if name not in fields and isinstance(changes.get(name), list) and changes[name]:
                fields[name] = changes[name][0]
    usernames = {f["owner"] for f in then.values() if f.get("owner")}
    slugs = {f["team"] for f in then.values() if f.get("team")}
    User = get_user_model()
    user_ids = (
        dict(User.objects.filter(username__in=usernames).values_list("username", "pk"))
        if usernames
        else {}
    )
    team_ids = dict(Team.objects.filter(slug__in=slugs).values_list("slug", "pk")) if slugs else {}
    for app_id, fields in then.items():
        app = by_pk[app_id]
        if isinstance(fields.get("depends_on"), list):
            app.depends_on_then = fields["depends_on"]
        if "orphaned" in fields:
            app.orphaned_then = bool(fields["orphaned"])
        for name in ("description", "docs_url", "runbook_url"):
            if name in fields:
                setattr(app, name, fields[name] or "")
        if fields.get("owner") in user_ids:
            app.owner_id = user_ids[fields["owner"]]
        elif "owner" in fields and fields["owner"] is None:
            app.owner_id = None  # team-owned then
        if fields.get("team") in team_ids:
            app.team_id = team_ids[fields["team"]]


def was_orphaned(app: MicroApp, cutoff: datetime) -> bool:
    """Whether ``app`` had no owner at ``cutoff``: the value ``wind_back`` found in the audit
    trail, else (nothing changed it since) whether it was flagged before the cutoff."""
    wound = getattr(app, "orphaned_then", None)
    if wound is not None:
        return wound
    return app.orphaned_at is not None and app.orphaned_at < cutoff


def heartbeats_before(
    apps: list[MicroApp],
    apps_qs: QuerySet[MicroApp],
    cutoff: datetime,
    recorded: Mapping[int, datetime] | None = None,
) -> dict[int, datetime]:
    """Each app's last sign of life before ``cutoff``: two grouped queries.

    A delivery sets ``last_seen_at`` and stamps the usage rows it stores, so the newest of
    the deliveries kept, the usage rows' ``updated_at`` and a ``last_seen_at`` still before
    the cutoff is the heartbeat as it was then. ``recorded`` are the heartbeats an earlier
    run of the same period found, for evidence pruned since.
    """
    seen: dict[int, datetime] = {}

    def keep(app_id: int, at: datetime | None) -> None:
        if at is not None and at < cutoff and (app_id not in seen or at > seen[app_id]):
            seen[app_id] = at

    for app in apps:
        keep(app.pk, app.last_seen_at)
    for app_id, at in (recorded or {}).items():
        keep(app_id, at)
    for model, column in ((TelemetryDelivery, "received_at"), (UsageReport, "updated_at")):
        rows = (
            model.objects.filter(app__in=apps_qs.values("pk"), **{f"{column}__lt": cutoff})
            .values("app_id")
            .annotate(last=Max(column))
            .order_by()
            .values_list("app_id", "last")
        )
        for app_id, at in rows:
            keep(app_id, at)
    return seen


def recorded_heartbeats(metrics: Mapping[int, dict]) -> dict[int, datetime]:
    """The telemetry heartbeat stored in each app's scorecard metrics, where there is one."""
    out = {}
    for app_id, data in metrics.items():
        value = ((data or {}).get("telemetry") or {}).get("last_seen_at")
        at = parse_datetime(value) if isinstance(value, str) else None
        if at is not None:
            out[app_id] = at
    return out


def retired_dependencies(
    apps: list[MicroApp], apps_qs: QuerySet[MicroApp], cutoff: datetime
) -> dict[int, list[tuple[str, datetime]]]:
    """The apps each of ``apps`` called at ``cutoff`` that were retired by then, as (name,
    retirement time), most recently retired first: one query, two when dependencies were
    changed since (``wind_back`` left the slugs called then in ``depends_on_then``).

    A dependency is read as it stood at the cutoff: the list the audit trail winds back to
    where one was changed since, otherwise the rows that existed before the cutoff."""
    found: dict[int, list[tuple[str, datetime]]] = {}
    wound = {app.pk: app.depends_on_then for app in apps if hasattr(app, "depends_on_then")}
    rows = Dependency.objects.filter(
        from_microapp__in=apps_qs.values("pk"),
        created_at__lt=cutoff,
        to_microapp__retired_at__lt=cutoff,
    ).values_list(
        "from_microapp_id", "to_microapp_id", "to_microapp__name", "to_microapp__retired_at"
    )
    for app_id, provider_id, name, retired_at in rows:
        if app_id not in wound and app_id != provider_id:
            found.setdefault(app_id, []).append((name, retired_at))
    slugs = {slug for called in wound.values() for slug in called}
    if slugs:
        retired = {
            slug: (name, at)
            for slug, name, at in MicroApp.objects.filter(
                slug__in=slugs, retired_at__lt=cutoff
            ).values_list("slug", "name", "retired_at")
        }
        by_pk = {app.pk: app for app in apps}
        for app_id, called in wound.items():
            own = by_pk[app_id].slug
            hits = [retired[slug] for slug in called if slug in retired and slug != own]
            if hits:
                found[app_id] = hits
    for hits in found.values():
        hits.sort(key=lambda hit: (-hit[1].timestamp(), hit[0]))
    return found
