"""Reads of the registry that answer a question, for services, views and jobs alike.

Reads a queryset can name stay in ``catalog/querysets.py`` (``MicroApp.objects.live()``);
this module holds the ones that return data rather than a queryset to refine. Nothing here
writes, and every function takes keyword arguments only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import OuterRef, Subquery

from catalog import versions
from catalog.choices import ContractKind
from catalog.impact import IMPACT_STATES
from catalog.models import Contract, Dependency, MicroApp
from catalog.querysets import dependency_links, newest_contracts_first
from contracts.listing import graphql_operations, openapi_operations


def latest_contract(
    *, app: MicroApp, kind: str | None = None, include_scheduled: bool = False
) -> Contract | None:
    """The app's current contract version (of ``kind``, if given), or None without one.

    Current is the newest version in effect: one scheduled for later is not current until
    its time comes. ``include_scheduled`` asks for the newest upload whatever its date,
    which is what a new upload is diffed against (``catalog.contract_services``). A
    withdrawn version is never either: the next upload builds on what is still coming.
    """
    contracts = app.contracts.not_withdrawn() if include_scheduled else app.contracts.in_effect()
    if kind:
        contracts = contracts.filter(kind=kind)
    return contracts.order_by("-created_at", "-pk").first()


def apps_pinned_behind() -> set[int]:
    """Ids of the apps pinned to contract versions older than a provider's current one
    (``catalog.versions.PinStatus.BEHIND``), among providers that went or are going live:
    one query over the links that have a range."""
    links = (
        dependency_links()
        .filter(to_microapp__state__in=IMPACT_STATES)
        .exclude(version_range="")
        .order_by()
        .values_list("from_microapp_id", "version_range", "current_version")
    )
    return {
        app_id
        for app_id, version_range, current in links
        if versions.pin_status(version_range, current) == versions.PinStatus.BEHIND
    }


def is_pinned_behind(link: Dependency) -> bool:
    """Whether a link from :func:`catalog.querysets.dependency_links` (with its provider
    loaded) pins a live provider to versions older than its current contract; the rule
    :func:`apps_pinned_behind` applies to the whole fleet."""
    if link.to_microapp.state not in IMPACT_STATES:
        return False
    status = versions.pin_status(link.version_range, link.current_version)  # type: ignore[attr-defined]
    return status == versions.PinStatus.BEHIND


@dataclass(frozen=True)
class PinnedGroup:
    """Dependents pinned to one range that leaves out the provider's current version."""

    version_range: str
    dependents: list[MicroApp]


def pinned_behind_groups(
    *, links: Iterable[Dependency], current_version: str | None
) -> list[PinnedGroup]:
    """``links`` to one provider (with ``from_microapp`` loaded) whose range stops below
    its ``current_version``, grouped by range, the range holding the most first."""
    label = current_version
    groups: dict[str, list[MicroApp]] = {}
    for link in links:
        if versions.pin_status(link.version_range, label) == versions.PinStatus.BEHIND:
            groups.setdefault(link.version_range, []).append(link.from_microapp)
    return [
        PinnedGroup(version_range, sorted(apps, key=lambda app: (app.name, app.pk)))
        for version_range, apps in sorted(groups.items(), key=lambda item: (-len(item[1]), item[0]))
    ]


def current_operations(*, app_ids: Iterable[int]) -> dict[int, list[str]]:
    """The operations of each app's current contract (see :func:`contract_operations`),
    for many apps in one query."""
    ids = set(app_ids)
    if not ids:
        return {}
    newest = newest_contracts_first(OuterRef("app_id")).values("pk")[:1]
    contracts = Contract.objects.filter(app_id__in=ids, pk=Subquery(newest)).only(
        "app_id", "kind", "document", "sdl"
    )
    return {contract.app_id: contract_operations(contract=contract) for contract in contracts}


def contract_operations(*, contract: Contract | None) -> list[str]:
    """The operations a contract offers, as a dependent declares them ("GET /tickets/{id}",
    "Query.tickets"), in document order; [] without a contract."""
    if contract is None:
        return []
    if contract.kind == ContractKind.GRAPHQL:
        return graphql_operations(contract.sdl)
    return openapi_operations(contract.document or {})
