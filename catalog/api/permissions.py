from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from catalog import roles


class IsPlatformOrReadOnly(BasePermission):
    """Reference data (teams, regions) is read by all and curated by the platform team."""

    message = "Only the platform team may change this."

    def has_permission(self, request, view) -> bool:
        if not request.user.is_authenticated:
            return False
        return request.method in SAFE_METHODS or roles.is_platform(request.user)


class CanManageApp(BasePermission):
    """Reading is for everyone who can see the app; changing it is for its owners."""

    message = "Only the app's owner, its team or the platform team may change it."

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request, view, obj) -> bool:
        if request.method in SAFE_METHODS:
            return True
        return roles.can_manage_app(request.user, obj)
