"""Backstage's organisation: Group entities become teams, User entities people."""

from __future__ import annotations

from catalog.backstage.importer import EntityResult
from catalog.models import BackstageEntity


def import_group(doc: dict, entity: BackstageEntity, result: EntityResult, *, user, scope=None):
    """The team of a Group entity, or None with the reason in ``result``."""
    result.action = "skipped"
    result.warnings.append("Group entities are not imported yet.")
    return None


def import_user(doc: dict, entity: BackstageEntity, result: EntityResult, *, user):
    """The person of a User entity, or None with the reason in ``result``."""
    result.action = "skipped"
    result.warnings.append("User entities are not imported yet.")
    return None
