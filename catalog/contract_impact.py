"""Who a contract version's breaking changes reach: the provider's live dependents, and
for each direct one the breaking changes that touch what it declared it calls.

Reads only (like ``catalog.selectors``): the upload service asks it before it stores a
version, the check endpoint and the upload page before the owner confirms, the version
page to list who has acknowledged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from catalog import impact
from catalog.models import Contract, ContractAcknowledgement, MicroApp
from catalog.policies import notice_days

# A dependent's share of the answer stays small even for a rewrite with a thousand
# breaking changes; the count says how many there were.
MAX_CHANGES_PER_DEPENDENT = 100


def _reason(dependent: impact.Dependent, touching: list[dict], through: str | None) -> str:
    if dependent.depth > 1:
        if through is None:
            return f"Reached through {dependent.via.slug if dependent.via else '?'}, not touched."
        return f"Reached through {through}, which the breaking changes touch."
    if not dependent.uses:
        return "Declares no operations it calls: every breaking change counts."
    if touching:
        return "Calls operations the breaking changes touch."
    return "None of the operations it declared are touched: no notice."


@dataclass
class ContractImpact:
    """The dependents of a provider against one set of changes."""

    dependents: list[impact.Dependent]
    breaking_changes: int
    # direct dependent's pk -> the breaking changes touching it (absent: not touched)
    touching: dict[int, list[dict[str, Any]]] = field(default_factory=dict)

    @property
    def direct(self) -> list[impact.Dependent]:
        return [d for d in self.dependents if d.depth == 1]

    @property
    def touched(self) -> list[impact.Dependent]:
        """Direct dependents some breaking change touches: they hear of the version."""
        return [d for d in self.direct if d.app.pk in self.touching]

    @property
    def needs_notice(self) -> bool:
        return bool(self.breaking_changes and self.touching)

    def _touched_way(self) -> dict[int, str | None]:
        """For each dependent, the touched direct dependent its calls go through (None:
        its way to the provider is not touched)."""
        by_pk = {d.app.pk: d for d in self.dependents}
        way: dict[int, str | None] = {}
        for dependent in self.dependents:  # nearest first, so a via is settled before
            if dependent.depth == 1:
                way[dependent.app.pk] = (
                    dependent.app.slug if dependent.app.pk in self.touching else None
                )
            else:
                via = by_pk.get(dependent.via.pk) if dependent.via else None
                way[dependent.app.pk] = way.get(via.app.pk) if via else None
        return way

    def rows(self) -> list[dict[str, Any]]:
        way = self._touched_way()
        rows = []
        for dependent in self.dependents:
            touching = self.touching.get(dependent.app.pk, [])
            direct = dependent.depth == 1
            through = way.get(dependent.app.pk)
            rows.append(
                {
                    **dependent.as_dict(),
                    "uses_declared": bool(dependent.uses),
                    "touched": bool(touching) if direct else None,
                    "at_risk": through is not None,
                    "notified": direct and bool(touching),
                    "touching_count": len(touching),
                    "touching_changes": touching[:MAX_CHANGES_PER_DEPENDENT],
                    "reason": _reason(dependent, touching, through if not direct else None),
                }
            )
        return rows

    def as_dict(self) -> dict[str, Any]:
        rows = self.rows()
        direct = sum(1 for r in rows if r["depth"] == 1)
        touched = len(self.touching)
        return {
            "summary": {
                "dependents": len(rows),
                "direct": direct,
                "touched": touched,
                "not_touched": direct - touched,
                "at_risk": sum(1 for r in rows if r["at_risk"]),
                "breaking_changes": self.breaking_changes,
            },
            "needs_notice": self.needs_notice,
            "notice_days": notice_days(),
            "dependents": rows,
        }


def contract_impact(*, app: MicroApp, changes: list[dict[str, Any]]) -> ContractImpact:
    """The provider's live dependents against ``changes``; three queries."""
    breaking = sum(1 for c in changes if c.get("level") == "ERR")
    found = impact.dependents(app) if app.pk else []
    touching = {}
    if breaking:
        for dependent in found:
            if dependent.depth == 1:
                hits = impact.changes_touching(changes, dependent.uses)
                if hits:
                    touching[dependent.app.pk] = hits
    return ContractImpact(dependents=found, breaking_changes=breaking, touching=touching)


def contract_breaking_count(contract: Contract) -> int:
    """Breaking changes of a stored version, counted past the cap on the stored list."""
    listed = sum(1 for c in contract.changes if c.get("level") == "ERR")
    return int(contract.change_counts.get("ERR", listed))


@dataclass
class AcknowledgementStatus:
    """Which direct dependents a breaking version touches have acknowledged it."""

    acknowledged: list[ContractAcknowledgement]
    pending: list[impact.Dependent]
    # pk of every app that may acknowledge: the touched direct dependents, acknowledged or not
    touched_ids: frozenset[int] = frozenset()


def acknowledgement_status(*, contract: Contract) -> AcknowledgementStatus:
    """Acknowledgements of a breaking version, and the touched dependents yet to give
    one; four queries, none for a version without breaking changes."""
    if not contract.breaking:
        return AcknowledgementStatus(acknowledged=[], pending=[])
    found = contract_impact(app=contract.app, changes=contract.changes)
    acknowledged = list(
        contract.acknowledgements.select_related("dependent", "acknowledged_by").order_by(
            "acknowledged_at", "pk"
        )
    )
    done = {a.dependent_id for a in acknowledged}
    pending = [d for d in found.touched if d.app.pk not in done]
    return AcknowledgementStatus(
        acknowledged=acknowledged,
        pending=pending,
        touched_ids=frozenset(d.app.pk for d in found.touched),
    )
