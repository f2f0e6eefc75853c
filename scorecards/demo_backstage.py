"""The demo's Backstage catalog, imported the way a sync source would: field-ops' mobile
squad (a Group under field-ops), a person known only to Backstage, an app in the
``mobile`` namespace that depends on Route Optimizer and provides an API, and a deprecated
app. Running it again changes nothing (every entity comes back ``unchanged``)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from catalog.backstage.importer import import_catalog_info

CATALOG = Path(__file__).resolve().parent / "demo_data" / "backstage-catalog.yaml"


def import_demo_catalog(platform_member) -> int:
    """Import the catalog as ``platform_member``; returns how many entities it wrote."""
    report = import_catalog_info(
        text=CATALOG.read_text(),
        user=platform_member,
        request=SimpleNamespace(user=platform_member),
        dry_run=False,
    )
    return sum(1 for entity in report.entities if entity.action in ("created", "updated"))
