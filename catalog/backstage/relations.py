"""The references between entities, made into links between apps whichever side arrives
first: ``dependsOn`` and ``consumesApis`` become dependencies, ``providesApis`` attaches an
API entity's definition to the app as a contract version."""

from __future__ import annotations

from catalog.backstage.importer import EntityResult
from catalog.models import BackstageEntity, MicroApp


def component_written(
    app: MicroApp, entity: BackstageEntity, result: EntityResult, *, user, dry_run: bool
) -> None:
    """After a Component's app was created or updated: record its references, link the
    apps it names that exist, and link the apps that were waiting for it."""


def api_stored(entity: BackstageEntity, result: EntityResult, *, user, dry_run: bool) -> None:
    """After an API entity was stored: its definition becomes a contract version of each
    app that provides it, and the apps that consume it depend on those apps."""


def app_registered(app: MicroApp) -> None:
    """An app registered in Appkeeper may be the target a Backstage ``dependsOn`` waited
    for (``component:default/<slug>``)."""
