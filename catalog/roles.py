"""Who may do what, in one place for the API, the pages and the admin."""

from __future__ import annotations

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP


def _in_group(user, group: str) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    cache = getattr(user, "_appkeeper_groups", None)
    if cache is None:
        cache = set(user.groups.values_list("name", flat=True))
        user._appkeeper_groups = cache
    return group in cache


def is_platform(user) -> bool:
    return bool(getattr(user, "is_superuser", False)) or _in_group(user, PLATFORM_GROUP)


def is_finance(user) -> bool:
    return _in_group(user, FINANCE_GROUP)


def team_ids(user) -> set[int]:
    """Ids of the user's teams, fetched once per request object."""
    if not getattr(user, "is_authenticated", False):
        return set()
    cache = getattr(user, "_appkeeper_team_ids", None)
    if cache is None:
        cache = set(user.appkeeper_teams.values_list("pk", flat=True))
        user._appkeeper_team_ids = cache
    return cache


def is_owner(user, app) -> bool:
    """The app's owner and the members of its team answer for it."""
    if not getattr(user, "is_authenticated", False):
        return False
    return app.owner_id == user.pk or app.team_id in team_ids(user)


def can_manage_app(user, app) -> bool:
    """Edit, submit, renew, rotate the secret, answer a sunset case."""
    return is_owner(user, app) or is_platform(user)


def can_decide(user, app) -> bool:
    """Platform team decides reviews and contests, but never on an app it answers for."""
    return is_platform(user) and not is_owner(user, app)


def can_see_chargeback(user) -> bool:
    return is_platform(user) or is_finance(user) or bool(team_ids(user))
