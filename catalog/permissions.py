"""Who may do what: the one table the API, the pages and the templates ask.

Every action is one predicate here. Views and API permission classes call them, templates
reach them through ``{% can "action" app as name %}`` (``catalog.templatetags.permissions``)
and the README's "Roles" table says the same in words; ``tests/test_permission_matrix.py``
checks every API operation and HTML form against it for every kind of user. The Django
admin goes by the groups' model permissions instead (migration ``0004_role_groups``).

Roles add up: the platform team's and finance's rights come from the Django groups
``platform-team`` and ``finance`` (superusers count as platform team); an app's owners
are its owner, its co-owners and the members of its team. A finance member who also sits in a team
answers for that team's apps like any other member.
"""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.db.models import Q

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP, AppState

# --- who the user is -----------------------------------------------------------------------


def is_signed_in(user) -> bool:
    return bool(getattr(user, "is_authenticated", False))


def _groups(user) -> frozenset[str]:
    # Cached on the user object, which lives as long as its request: a page asks many
    # predicates and must not pay a query for each.
    cached = getattr(user, "_appkeeper_groups", None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        user._appkeeper_groups = cached
    return cached


def is_platform(user) -> bool:
    if not is_signed_in(user):
        return False
    return bool(getattr(user, "is_superuser", False)) or PLATFORM_GROUP in _groups(user)


def is_finance(user) -> bool:
    return is_signed_in(user) and FINANCE_GROUP in _groups(user)


def team_ids(user) -> frozenset[int]:
    """Ids of the user's teams, fetched once per user object (so once per request)."""
    if not is_signed_in(user):
        return frozenset()
    cached = getattr(user, "_appkeeper_team_ids", None)
    if cached is None:
        cached = frozenset(user.appkeeper_teams.values_list("pk", flat=True))
        user._appkeeper_team_ids = cached
    return cached


def co_owned_app_ids(user) -> frozenset[int]:
    """Ids of the apps the user co-owns, fetched once per user object (so once per
    request), and only when the owner and team checks did not already answer."""
    if not is_signed_in(user):
        return frozenset()
    cached = getattr(user, "_appkeeper_co_owned_app_ids", None)
    if cached is None:
        cached = frozenset(user.co_owned_apps.values_list("pk", flat=True))
        user._appkeeper_co_owned_app_ids = cached
    return cached


def co_owned_apps_subquery(user):
    """The ids of the apps ``user`` co-owns, as a subquery: ``OR``-ing a join on the
    co-owners would repeat an app once per co-owner in a list."""
    from catalog.models import MicroApp

    return MicroApp.co_owners.through.objects.filter(user_id=user.pk).values("microapp_id")


def is_owner(user, app) -> bool:
    """The app's owner, its co-owners and the members of its team answer for it."""
    if not is_signed_in(user):
        return False
    if app.owner_id == user.pk or app.team_id in team_ids(user):
        return True
    co_owners = app.co_owner_usernames  # read with the app, where a page shows them
    if co_owners is not None:
        return user.get_username() in co_owners
    return app.pk in co_owned_app_ids(user)


# --- seeing ----------------------------------------------------------------------------------


def can_view_app(user, app) -> bool:
    """Signed-in users see every app except other teams' drafts, which are work in progress:
    to anyone else they do not exist (404, like an unknown slug)."""
    if not is_signed_in(user):
        return False
    return app.state != AppState.DRAFT or is_owner(user, app) or is_platform(user)


def visible_apps_filter(user, prefix: str = "") -> Q | None:
    """:func:`can_view_app` as a filter on apps (``prefix`` reaches them from a related
    model, e.g. ``"app__"``); None means every app. A subquery, not the cached team ids,
    so a list costs no extra query."""
    if not is_signed_in(user):
        return Q(**{f"{prefix}pk__in": []})
    if is_platform(user):
        return None
    return (
        ~Q(**{f"{prefix}state": AppState.DRAFT})
        | Q(**{f"{prefix}owner": user})
        | Q(**{f"{prefix}team__in": user.appkeeper_teams.values("pk")})
        | Q(**{f"{prefix}pk__in": co_owned_apps_subquery(user)})
    )


def can_view_reviews(user, app) -> bool:
    """Reviews are between an app's owners and the platform team."""
    return is_platform(user) or is_owner(user, app)


def can_view_review(user, review) -> bool:
    return can_view_reviews(user, review.app)


def visible_reviews_filter(user) -> Q | None:
    """:func:`can_view_review` as a filter on reviews; None means every review."""
    if not is_signed_in(user):
        return Q(pk__in=[])
    if is_platform(user):
        return None
    return (
        Q(app__owner=user)
        | Q(app__team_id__in=team_ids(user))
        | Q(app_id__in=co_owned_apps_subquery(user))
    )


# --- registering and changing apps -----------------------------------------------------------


def can_register_app(user, team=None) -> bool:
    """Anyone signed in registers apps for their own teams; the platform team for any team.
    Without ``team``: may the user register an app for some team at all?"""
    if is_platform(user):
        return True
    if team is None:
        return bool(team_ids(user))
    return team.pk in team_ids(user)


def registrable_teams_filter(user) -> Q | None:
    """:func:`can_register_app` as a filter on teams; None means every team."""
    if is_platform(user):
        return None
    return Q(pk__in=team_ids(user))


def _owner_or_platform(user, app) -> bool:
    return is_owner(user, app) or is_platform(user)


def can_edit(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_submit(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_renew(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_rotate_secret(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_retire(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_upload_contract(user, app) -> bool:
    return _owner_or_platform(user, app)


def can_respond_sunset(user, app) -> bool:
    """Accept or contest a sunset case: what an owner would do, so also the platform team
    (accepting retires the app, which it may do anyway)."""
    return _owner_or_platform(user, app)


# --- deciding ----------------------------------------------------------------------------------


def can_decide_review(user, app=None) -> bool:
    """The platform team decides reviews, never on an app it answers for. Without ``app``:
    does the user sit on the review board at all (their dashboard lists open reviews)?"""
    if not is_platform(user):
        return False
    return app is None or not is_owner(user, app)


def can_decide_sunset(user, app=None) -> bool:
    """Contested sunset cases: the same board and the same exclusion as reviews."""
    return can_decide_review(user, app)


# --- reports and the platform's own pages ---------------------------------------------------


def chargeback_teams(user) -> frozenset[int] | None:
    """Which teams' costs the user may see: None for all (finance, platform team), else
    their own teams (an empty set: none, and the chargeback pages answer 403)."""
    if is_finance(user) or is_platform(user):
        return None
    return team_ids(user)


def can_see_chargeback(user) -> bool:
    return chargeback_teams(user) is None or bool(chargeback_teams(user))


def can_compute_scorecards(user) -> bool:
    """Score an ended quarter on demand, when the scheduled job did not (platform team)."""
    return is_platform(user)


def can_manage_backstage_sources(user) -> bool:
    """The catalogs Appkeeper pulls from Backstage, and their tokens: the platform team."""
    return is_platform(user)


def can_manage_reference_data(user) -> bool:
    """Teams and regions: read by everyone signed in, curated by the platform team."""
    return is_platform(user)


def can_view_teams(user) -> bool:
    """The team pages (``/teams/``): everyone signed in reads teams, as over the API."""
    return is_signed_in(user)


def can_set_team_lead(user) -> bool:
    """Name or clear the lead who takes over a team's apps when their owner leaves: the
    platform team, who curate teams."""
    return is_platform(user)


def can_edit_team_chat(user, team=None) -> bool:
    """Set a team's Slack channel and Teams webhook: its lead, who knows where the team
    talks, and the platform team. Without a team: the platform team only."""
    if not is_signed_in(user):
        return False
    if is_platform(user):
        return True
    return team is not None and team.lead_id is not None and team.lead_id == user.pk


def can_see_ops(user) -> bool:
    return is_platform(user)


def can_transfer_apps(user) -> bool:
    """Move every app of a person or a team, or a list of apps, to another owner: the
    platform team, who also look after the apps orphaned when an owner left."""
    return is_platform(user)


# --- API tokens -------------------------------------------------------------------------------


def visible_tokens_filter(user) -> Q | None:
    """The API tokens ``user`` may list and revoke, as a filter; None means every token.

    Everyone manages their own; the platform team anyone's, to cut off a leaked token
    without waiting for its owner. Nobody issues a token for someone else."""
    if not is_signed_in(user):
        return Q(pk__in=[])
    if is_platform(user):
        return None
    return Q(user=user)


# --- provisioning (SCIM) ---------------------------------------------------------------------


def can_manage_provisioning(user) -> bool:
    """Issue and revoke the tokens the identity provider provisions people with: whoever
    holds one can create and deactivate any account, so only the platform team."""
    return is_platform(user)


# Actions on one app by name, for templates (``{% can "renew" app as may_renew %}``), the
# API's permission classes and :func:`require`, with the reason a refusal gives.
APP_ACTIONS: dict[str, Callable[..., bool]] = {
    "view": can_view_app,
    "view_reviews": can_view_reviews,
    "edit": can_edit,
    "submit": can_submit,
    "renew": can_renew,
    "rotate_secret": can_rotate_secret,
    "retire": can_retire,
    "upload_contract": can_upload_contract,
    "respond_sunset": can_respond_sunset,
    "decide_review": can_decide_review,
    "decide_sunset": can_decide_sunset,
}

# Who may act on an app, as the refusals name them.
_OWNERS = "Only the app's owner, co-owners, team or the platform team"

DENIED: dict[str, str] = {
    "view": "You cannot see this app.",
    "view_reviews": f"{_OWNERS} see its reviews.",
    "edit": f"{_OWNERS} may edit it.",
    "submit": f"{_OWNERS} may submit it.",
    "renew": f"{_OWNERS} may renew it.",
    "rotate_secret": f"{_OWNERS} may rotate its secret.",
    "retire": f"{_OWNERS} may retire it.",
    "upload_contract": f"{_OWNERS} may add a contract version.",
    "respond_sunset": f"{_OWNERS} may answer this case.",
    "decide_review": "Only the platform team decides reviews, and never on an app they answer for.",
    "decide_sunset": (
        "Only the platform team decides contests, and never on an app they answer for."
    ),
}


def allows(action: str, user, app) -> bool:
    """``APP_ACTIONS[action](user, app)``; an unknown action name is a programming error."""
    return APP_ACTIONS[action](user, app)


def require(action: str, user, app) -> None:
    """Refuse with 403 and the reason unless ``user`` may do ``action`` on ``app``. Django's
    PermissionDenied: the pages show the 403 page, DRF answers it as a 403 too."""
    if not allows(action, user, app):
        raise PermissionDenied(DENIED[action])


# --- sign-in ------------------------------------------------------------------------------------


def can_manage_group_mappings(user) -> bool:
    """Which directory groups give which roles: the keys to every role, so the platform's."""
    return is_platform(user)
