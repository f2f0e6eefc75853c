"""Policy-as-code: the fleet's rules as small pure functions over an app's facts.

Each rule is a :class:`Rule` (id, description, severity, check function) in ``RULES``.
A check receives an :class:`AppFacts` — a plain, frozen snapshot of what the rules look at —
and yields :class:`Finding` objects. Because rules never touch the ORM they can judge a
saved app, an app with proposed changes, or a payload CI sends before anything exists
(``POST /api/v1/policies/evaluate/``), all without writing.

Where the rules run:

1. on every save (``catalog.services.app_register`` / ``app_update``): a ``block`` finding
   on an app field refuses the save with a message keyed by that field. Findings about
   things a save cannot change (``contract``) are left to the go-live gate, or an exposed
   app could never be registered before its contract is uploaded. An update is refused
   only for block findings it *introduces*, so an app that broke a rule added later can
   still be fixed one field at a time;
2. on submit, by the go-live gate (``catalog.gate``): any ``block`` finding fails it;
3. on demand, by the evaluate endpoint and the ``/policies/`` page.

Adding a rule is one function and one registry entry::

    def _needs_repository(app: AppFacts) -> Iterator[Finding]:
        if app.environment == "production" and not app.repository_url:
            yield finding("repository_url", "Production apps link their source repository.")

    RULES.append(Rule("production-needs-repository", "Production apps link their repository.",
                      Severity.WARN, _needs_repository))

``finding()`` is filled in with the rule's id and severity by :func:`evaluate`.

A later app whose rule needs facts only it knows (lifecycle: the calls an app's telemetry
reported) registers a :class:`FactSource` and its rule from its ``AppConfig.ready()``;
the facts reach the rule in ``AppFacts.extra``, loaded for a whole page of apps at once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import models

from catalog.choices import Environment, Jurisdiction


class Severity(models.TextChoices):
    BLOCK = "block", "Block"
    WARN = "warn", "Warn"


@dataclass(frozen=True)
class RegionFacts:
    code: str
    jurisdiction: str
    sovereign: bool = False
    pci: bool = False


@dataclass(frozen=True)
class AppFacts:
    """Everything a rule may look at, detached from the database."""

    slug: str = ""
    name: str = ""
    environment: str = Environment.SANDBOX
    criticality: str = "standard"
    handles_pii: bool = False
    handles_payment_data: bool = False
    externally_exposed: bool = False
    data_residency: str = ""
    regions: tuple[RegionFacts, ...] = ()
    owner: str | None = None
    owner_active: bool = True
    team: str | None = None
    sla_availability: Decimal | None = None
    sla_p95_ms: int | None = None
    sla_support_hours: str = ""
    docs_url: str = ""
    runbook_url: str = ""
    repository_url: str = ""
    has_valid_contract: bool = False
    last_seen_at: datetime | None = None
    # A contract version about to be uploaded (zero and None for an app on its own): its
    # breaking changes, the live dependents they touch, how long before it takes effect
    # (None: at once) and whether the platform team overrides the migration window.
    contract_breaking_changes: int = 0
    contract_touched_dependents: int = 0
    contract_notice: timedelta | None = None
    contract_override: bool = False
    # The slugs of the declared dependencies when a change is about to set them; None
    # means "as stored", which a fact source reads with its facts.
    depends_on: tuple[str, ...] | None = None
    # Facts registered by later apps (FACT_SOURCES), by source name.
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False, hash=False)

    # Fields a payload or a MicroApp can carry as plain values.
    PLAIN_FIELDS = (
        "slug",
        "name",
        "environment",
        "criticality",
        "handles_pii",
        "handles_payment_data",
        "externally_exposed",
        "data_residency",
        "sla_availability",
        "sla_p95_ms",
        "sla_support_hours",
        "docs_url",
        "runbook_url",
        "repository_url",
        "last_seen_at",
    )

    @property
    def has_sla(self) -> bool:
        return bool(self.sla_availability and self.sla_p95_ms and self.sla_support_hours)

    @classmethod
    def from_app(
        cls,
        app,
        *,
        regions: Iterable | None = None,
        has_valid_contract: bool | None = None,
        depends_on: Iterable | None = None,
    ) -> AppFacts:
        """Facts of a MicroApp, saved or not.

        ``regions`` overrides the app's regions (an unsaved app has none yet, an update may
        be about to change them); otherwise ``app.regions.all()`` is read, which costs no
        query when prefetched. ``has_valid_contract`` defaults to the ``policy_contract_valid``
        annotation of :func:`annotate_for_policies` (null: no contract), else one query.
        ``depends_on`` (apps) overrides the stored dependencies. The registered sources'
        facts come from ``app.policy_extra`` (:func:`attach_extra_facts`), else are loaded
        for this app.
        """
        if regions is None:
            regions = app.regions.all() if app.pk else ()
        if has_valid_contract is None:
            if hasattr(app, "policy_contract_valid"):  # from annotate_for_policies()
                has_valid_contract = bool(app.policy_contract_valid)
            else:
                has_valid_contract = bool(app.pk) and latest_contract_is_valid(app)
        owner = app.owner if app.owner_id else None
        values: dict[str, Any] = {name: getattr(app, name) for name in cls.PLAIN_FIELDS}
        extra = getattr(app, "policy_extra", None)
        if extra is None:
            extra = extra_facts([app.pk]).get(app.pk, {}) if app.pk else {}
        return cls(
            **values,
            depends_on=None if depends_on is None else tuple(a.slug for a in depends_on),
            extra=extra,
            regions=tuple(region_facts(r) for r in regions),
            owner=owner.get_username() if owner else None,
            owner_active=bool(owner and owner.is_active),
            team=app.team.slug if app.team_id else None,
            has_valid_contract=bool(has_valid_contract),
        )

    def with_changes(self, changes: dict[str, Any]) -> AppFacts:
        """These facts with validated values applied: Region/Team/User objects or plain values."""
        updates: dict[str, Any] = {}
        for name, value in changes.items():
            if name == "regions":
                updates["regions"] = tuple(region_facts(r) for r in value)
            elif name == "team":
                updates["team"] = getattr(value, "slug", value) or None
            elif name == "depends_on":
                updates["depends_on"] = tuple(getattr(a, "slug", a) for a in value)
            elif name == "owner":
                updates["owner"] = value.get_username() if value is not None else None
                updates["owner_active"] = bool(value is not None and value.is_active)
            elif name in self.PLAIN_FIELDS:
                updates[name] = "" if value is None and name in _TEXT_FIELDS else value
        return replace(self, **updates)


_TEXT_FIELDS = {
    "data_residency",
    "sla_support_hours",
    "docs_url",
    "runbook_url",
    "repository_url",
    "slug",
    "name",
}


def region_facts(region) -> RegionFacts:
    return RegionFacts(
        code=region.code,
        jurisdiction=region.jurisdiction,
        sovereign=region.sovereign,
        pci=region.pci,
    )


def latest_contract_is_valid(app) -> bool:
    """The app's current contract version validates; older valid versions do not count,
    because the current one is what clients are told to use (a version scheduled for later
    is not current yet)."""
    latest = app.contracts.in_effect().order_by("-created_at", "-pk")
    return bool(latest.values_list("is_valid", flat=True).first())


def annotate_for_policies(queryset):
    """Everything :meth:`AppFacts.from_app` reads, for a whole queryset in fixed queries."""
    from django.db.models import OuterRef, Subquery

    from catalog.models import Contract

    latest = Contract.objects.in_effect().filter(app=OuterRef("pk")).order_by("-created_at", "-pk")
    return (
        queryset.select_related("team", "owner")
        .prefetch_related("regions")
        .annotate(policy_contract_valid=Subquery(latest.values("is_valid")[:1]))
    )


@dataclass(frozen=True)
class Finding:
    """One broken rule: which rule, how bad, which field to fix and how."""

    rule: str
    severity: str
    field: str
    message: str

    # Findings on these are about things a save cannot change; the gate enforces them.
    NOT_SAVEABLE = frozenset({"contract", "effective_at"})

    @property
    def blocks(self) -> bool:
        return self.severity == Severity.BLOCK

    @property
    def blocks_save(self) -> bool:
        return self.blocks and self.field not in self.NOT_SAVEABLE

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "field": self.field,
            "message": self.message,
        }


def finding(field_name: str, message: str) -> Finding:
    """A finding for the rule being evaluated; :func:`evaluate` fills in id and severity."""
    return Finding(rule="", severity="", field=field_name, message=message)


@dataclass(frozen=True)
class Rule:
    id: str
    description: str
    severity: str
    check: Callable[[AppFacts], Iterable[Finding]] = field(repr=False)


# --- the built-in rules -----------------------------------------------------------------


def _jurisdiction_name(code: str) -> str:
    try:
        return Jurisdiction(code).label
    except ValueError:
        return code


def _codes(regions: Iterable[RegionFacts]) -> str:
    return ", ".join(r.code for r in regions)


# The pii-residency rule, stated once: the model, the API serializer, the form and the app
# page all call these, so the rule and its messages cannot drift apart.
PII_RESIDENCY_RULE = (
    "Apps that handle personal data run only in regions of their residency jurisdiction."
)
PII_RESIDENCY_MISSING = "Apps that handle personal data must declare where that data must stay."
# The fields the rule reads: changing one can add or clear an error on the others.
PII_RESIDENCY_FIELDS = ("handles_pii", "data_residency", "regions")


def regions_outside_residency(*, handles_pii: bool, data_residency: str, regions: Iterable) -> list:
    """The regions (Region or RegionFacts) the pii-residency rule refuses for an app."""
    if not (handles_pii and data_residency):
        return []
    return [r for r in regions if r.jurisdiction != data_residency]


def pii_residency_errors(
    *, handles_pii: bool, data_residency: str, regions: Iterable = ()
) -> dict[str, str]:
    """The pii-residency rule as field -> message, empty when the app keeps it.

    Without ``regions`` only the declared residency is judged: that is all a model's
    ``clean()`` or a serializer can see before the app's regions are saved.
    """
    if not handles_pii:
        return {}
    if not data_residency:
        return {"data_residency": PII_RESIDENCY_MISSING}
    outside = regions_outside_residency(
        handles_pii=handles_pii, data_residency=data_residency, regions=regions
    )
    if not outside:
        return {}
    return {
        "regions": f"Personal data must stay in {_jurisdiction_name(data_residency)}: "
        f"{_codes(outside)} {'is' if len(outside) == 1 else 'are'} outside it."
    }


def _pii_residency(app: AppFacts) -> Iterator[Finding]:
    errors = pii_residency_errors(
        handles_pii=app.handles_pii, data_residency=app.data_residency, regions=app.regions
    )
    for field_name, message in errors.items():
        yield finding(field_name, message)


def _payment_pci(app: AppFacts) -> Iterator[Finding]:
    if not app.handles_payment_data:
        return
    outside = [r for r in app.regions if not r.pci]
    if outside:
        yield finding(
            "regions",
            f"Payment data may only run in PCI-certified regions: {_codes(outside)} "
            f"{'is' if len(outside) == 1 else 'are'} not.",
        )


def _exposed_needs_contract_and_runbook(app: AppFacts) -> Iterator[Finding]:
    if not app.externally_exposed:
        return
    if not app.runbook_url:
        yield finding("runbook_url", "Externally exposed apps need a runbook for on-call.")
    if not app.has_valid_contract:
        yield finding("contract", "Externally exposed apps need a valid API contract (upload one).")


def _production_needs_sla(app: AppFacts) -> Iterator[Finding]:
    if app.environment != Environment.PRODUCTION:
        return
    missing = {
        "sla_availability": "an availability target",
        "sla_p95_ms": "a p95 latency target",
        "sla_support_hours": "support hours",
    }
    for name, what in missing.items():
        if not getattr(app, name):
            yield finding(name, f"Production apps need an SLA: declare {what}.")


def _owner_required(app: AppFacts) -> Iterator[Finding]:
    # A team-owned app (no personal owner) is answered for by its team: its co-owners, lead
    # or contact read what the owner would.
    if not app.owner and not app.team:
        yield finding("owner", "Every app needs an accountable owner.")
    elif app.owner and not app.owner_active:
        yield finding("owner", f"The owner {app.owner} has left; hand the app to someone else.")


def _sovereign_for_eu_pii(app: AppFacts) -> Iterator[Finding]:
    if not (app.handles_pii and app.data_residency == Jurisdiction.EU):
        return
    outside = [r for r in app.regions if not r.sovereign]
    if outside:
        yield finding(
            "regions",
            f"EU personal data is better kept in sovereign regions: {_codes(outside)} "
            f"{'is' if len(outside) == 1 else 'are'} not sovereign.",
        )


# A request takes a moment: a client asking for exactly N days from its own clock is not
# refused for the seconds its request spent on the way.
NOTICE_SLACK = timedelta(minutes=5)


def notice_days() -> int:
    return settings.APPKEEPER_BREAKING_NOTICE_DAYS


def _breaking_needs_notice(app: AppFacts) -> Iterator[Finding]:
    breaking, touched = app.contract_breaking_changes, app.contract_touched_dependents
    if not (breaking and touched) or app.contract_override:
        return
    days = notice_days()
    if app.contract_notice is not None and app.contract_notice >= timedelta(days=days) - (
        NOTICE_SLACK
    ):
        return
    changes = f"{breaking} breaking change{'s' if breaking != 1 else ''}"
    dependents = f"{touched} live dependent{'s' if touched != 1 else ''}"
    yield finding(
        "effective_at",
        f"{changes} touch {dependents}: schedule the version to take effect at least "
        f"{days} days from now (effective_at), or ask the platform team to override the "
        "migration window with a reason.",
    )


BREAKING_NEEDS_NOTICE = "breaking-needs-notice"

RULES: list[Rule] = [
    Rule(
        "pii-residency",
        PII_RESIDENCY_RULE,
        Severity.BLOCK,
        _pii_residency,
    ),
    Rule(
        "payment-pci",
        "Apps that handle payment data run only in PCI-certified regions.",
        Severity.BLOCK,
        _payment_pci,
    ),
    Rule(
        "exposed-needs-contract-and-runbook",
        "Externally exposed apps have a valid API contract and a runbook.",
        Severity.BLOCK,
        _exposed_needs_contract_and_runbook,
    ),
    Rule(
        "production-needs-sla",
        "Production apps declare an SLA: availability, p95 latency and support hours.",
        Severity.BLOCK,
        _production_needs_sla,
    ),
    Rule(
        "owner-required",
        "Every app has an active, accountable owner, or is owned by its team as a whole.",
        Severity.BLOCK,
        _owner_required,
    ),
    Rule(
        "sovereign-for-eu-pii",
        "EU personal data should stay in sovereign regions.",
        Severity.WARN,
        _sovereign_for_eu_pii,
    ),
    Rule(
        BREAKING_NEEDS_NOTICE,
        "A contract version whose breaking changes touch live dependents takes effect "
        "after a migration window of APPKEEPER_BREAKING_NOTICE_DAYS days, or with a "
        "platform override.",
        Severity.BLOCK,
        _breaking_needs_notice,
    ),
]


def rules_by_id() -> dict[str, Rule]:
    return {rule.id: rule for rule in RULES}


def evaluate(app: AppFacts, rules: Iterable[Rule] | None = None) -> list[Finding]:
    """All findings of all rules (blocking ones first), each stamped with its rule."""
    out = []
    for rule in RULES if rules is None else rules:
        for found in rule.check(app):
            out.append(replace(found, rule=rule.id, severity=rule.severity))
    out.sort(key=lambda f: (f.severity != Severity.BLOCK,))
    return out


def evaluate_app(app, **kwargs) -> list[Finding]:
    """Findings for a MicroApp (see :meth:`AppFacts.from_app` for the keyword arguments)."""
    return evaluate(AppFacts.from_app(app, **kwargs))


def save_errors(findings: Iterable[Finding], *, before: Iterable[Finding] = ()) -> dict:
    """Field -> messages for the block findings that refuse a save.

    Findings already present ``before`` the change (same rule, same field) do not refuse
    it: the change did not make the app worse, and refusing would stop anyone fixing the
    other problems one at a time.
    """
    known = {(f.rule, f.field) for f in before if f.blocks_save}
    errors: dict[str, list[str]] = {}
    for found in findings:
        if found.blocks_save and (found.rule, found.field) not in known:
            errors.setdefault(found.field, []).append(found.message)
    return errors


def rule_breakage(apps: Iterable) -> list[dict]:
    """Each rule with the apps that break it, for the policies page.

    Runs in Python over apps from :func:`annotate_for_policies`, so the page costs a fixed
    number of queries; fine up to a few thousand apps, past that precompute it in a job.
    """
    by_rule: dict[str, list] = {rule.id: [] for rule in RULES}
    apps = attach_extra_facts(list(apps))
    for app in apps:
        broken = {f.rule for f in evaluate_app(app)}
        for rule_id in broken:
            by_rule[rule_id].append(app)
    return [{"rule": rule, "apps": by_rule[rule.id]} for rule in RULES]


# --- facts and rules of later apps ---------------------------------------------------------


@dataclass(frozen=True)
class FactSource:
    """Facts a later app knows about apps: ``load`` takes app ids and returns a value per
    id in a fixed number of queries (an id left out gets no entry in ``AppFacts.extra``)."""

    name: str
    load: Callable[[list[int]], Mapping[int, Any]] = field(repr=False)


FACT_SOURCES: dict[str, FactSource] = {}


def register_fact_source(source: FactSource) -> None:
    FACT_SOURCES[source.name] = source


def register_rule(rule: Rule) -> None:
    """Add a later app's rule once (``ready()`` may run again in a test process)."""
    if rule.id not in rules_by_id():
        RULES.append(rule)


def extra_facts(app_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Each registered source's facts for these apps, by app id then source name."""
    out: dict[int, dict[str, Any]] = {pk: {} for pk in app_ids}
    if not app_ids:
        return out
    for source in FACT_SOURCES.values():
        for pk, value in source.load(app_ids).items():
            out.setdefault(pk, {})[source.name] = value
    return out


def attach_extra_facts(apps: list) -> list:
    """Load the registered facts for a list of saved apps at once and leave them on each
    (``policy_extra``), so evaluating them costs no query per app."""
    facts = extra_facts([app.pk for app in apps])
    for app in apps:
        app.policy_extra = facts.get(app.pk, {})
    return apps
