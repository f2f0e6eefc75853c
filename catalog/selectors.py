"""Reads of the registry that answer a question, for services, views and jobs alike.

Reads a queryset can name stay in ``catalog/querysets.py`` (``MicroApp.objects.live()``);
this module holds the ones that return data rather than a queryset to refine. Nothing here
writes, and every function takes keyword arguments only.
"""

from __future__ import annotations

from catalog.models import Contract, MicroApp


def latest_contract(
    *, app: MicroApp, kind: str | None = None, include_scheduled: bool = False
) -> Contract | None:
    """The app's current contract version (of ``kind``, if given), or None without one.

    Current is the newest version in effect: one scheduled for later is not current until
    its time comes. ``include_scheduled`` asks for the newest upload whatever its date,
    which is what a new upload is diffed against (``catalog.contract_services``).
    """
    contracts = app.contracts.all() if include_scheduled else app.contracts.in_effect()
    if kind:
        contracts = contracts.filter(kind=kind)
    return contracts.order_by("-created_at", "-pk").first()
