"""Reads of the registry that answer a question, for services, views and jobs alike.

Reads a queryset can name stay in ``catalog/querysets.py`` (``MicroApp.objects.live()``);
this module holds the ones that return data rather than a queryset to refine. Nothing here
writes, and every function takes keyword arguments only.
"""

from __future__ import annotations

from catalog.models import Contract, MicroApp


def latest_contract(*, app: MicroApp, kind: str | None = None) -> Contract | None:
    """The app's newest contract version (of ``kind``, if given), or None without one."""
    contracts = app.contracts.all()
    if kind:
        contracts = contracts.filter(kind=kind)
    return contracts.order_by("-created_at", "-pk").first()
