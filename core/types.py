"""Type aliases for annotations that name Django's users.

The names are imported only while type-checking: ``django.contrib.auth.models`` needs the
app registry, and a module of core may be imported before it is ready (settings, logging).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# A signed-in user: Django's own model, which the project keeps (no AUTH_USER_MODEL).
SignedInUser: TypeAlias = "User"
# ``request.user``: whoever asks, signed in or not.
AnyUser: TypeAlias = "User | AnonymousUser"
# Who makes a change: ``request.user``, or None when the system does it (the daily jobs).
# Audit events record only a signed-in user.
Actor: TypeAlias = "User | AnonymousUser | None"
