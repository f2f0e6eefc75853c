"""Deactivating and reactivating people, whichever way the directory tells us."""

from __future__ import annotations

from django.db import transaction

from core.types import Actor, SignedInUser
from identity.models import DeactivatedVia, Person


def person_of(user: SignedInUser) -> Person:
    """The user's directory record, created on first need (local accounts have none yet)."""
    person, _ = Person.objects.get_or_create(user=user)
    return person


@transaction.atomic
def deactivate(user: SignedInUser, *, actor: Actor, via: str) -> None:
    """Switch the account off; the ``post_save`` receiver in ``identity.signals`` hands the
    person's apps over in the same transaction. Deactivating twice does nothing more."""
    if not user.is_active:
        return
    user.is_active = False
    # Read by the post_save receiver, which has only the instance to go on.
    setattr(user, "_appkeeper_deactivation", (actor, via))  # noqa: B010
    user.save(update_fields=["is_active"])


@transaction.atomic
def reactivate(user: SignedInUser) -> None:
    """Switch the account back on. Apps handed over stay with their new owners."""
    if user.is_active:
        return
    user.is_active = True
    user.save(update_fields=["is_active"])


__all__ = ["DeactivatedVia", "deactivate", "person_of", "reactivate"]
