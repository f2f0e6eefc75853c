"""DRF's side of ``catalog.permissions``: permission classes that ask its predicates."""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from catalog import permissions
from catalog.models import MicroApp


class IsPlatformOrReadOnly(BasePermission):
    """Reference data (teams, regions) is read by all and curated by the platform team."""

    message = "Only the platform team may change this."

    def has_permission(self, request, view) -> bool:
        if not permissions.is_signed_in(request.user):
            return False
        return request.method in SAFE_METHODS or permissions.can_manage_reference_data(request.user)


class TeamChatPermission(BasePermission):
    """A team's chat settings: its lead and the platform team (``can_edit_team_chat``)."""

    message = "Only the team's lead or the platform team may change its chat settings."

    def has_permission(self, request, view) -> bool:
        return permissions.is_signed_in(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        return permissions.can_edit_team_chat(request.user, obj)


class AppActionPermission(BasePermission):
    """Reads are for whoever can see the object (the view's queryset hides the rest: 404).
    A write runs the predicate its view names for the action in ``app_actions``
    (``{"renew": "renew", ...}``, keys of ``catalog.permissions.APP_ACTIONS``) on the app,
    or on the app of the review or sunset case. A write without an entry is refused, so
    a new endpoint cannot slip through open."""

    message = "You may not do this."

    def has_permission(self, request, view) -> bool:
        return permissions.is_signed_in(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        action = getattr(view, "app_actions", {}).get(view.action)
        if action is None:
            return False
        # A new instance per request, so the reason fits this refusal only.
        self.message = permissions.DENIED[action]
        app = obj if isinstance(obj, MicroApp) else obj.app
        return permissions.allows(action, request.user, app)
