"""The registry's data, its invariants and its state transitions, one module per topic."""

from catalog.models.apps import MicroApp
from catalog.models.backstage import (
    BackstageEntity,
    BackstageRelation,
    BackstageSource,
    EntityKind,
    RelationType,
    SyncStatus,
)
from catalog.models.common import (
    FREE_TEXT_MAX,
    RESERVED_SLUGS,
    Transition,
    TransitionError,
    free_text,
    no_control_characters,
    slug_validator,
)
from catalog.models.dependencies import Dependency
from catalog.models.imports import ImportJob, ImportJobState
from catalog.models.records import (
    AuditEvent,
    Contract,
    ContractAcknowledgement,
    Notification,
    Review,
)
from catalog.models.teams import Region, Team

__all__ = [
    "BackstageEntity",
    "BackstageRelation",
    "BackstageSource",
    "EntityKind",
    "RelationType",
    "SyncStatus",
    "FREE_TEXT_MAX",
    "ImportJob",
    "ImportJobState",
    "RESERVED_SLUGS",
    "AuditEvent",
    "Contract",
    "ContractAcknowledgement",
    "Dependency",
    "MicroApp",
    "Notification",
    "Region",
    "Review",
    "Team",
    "Transition",
    "TransitionError",
    "free_text",
    "no_control_characters",
    "slug_validator",
]
