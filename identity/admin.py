"""The directory record beside each user in the Django admin, read-only: the identity
provider and provisioning write it, and a person reading a user's page wants to know where
the account came from and why it was switched off."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from identity.models import Person


class PersonInline(admin.StackedInline):
    model = Person
    can_delete = False
    verbose_name_plural = "directory"
    fields = [
        "source",
        "external_id",
        "oidc_issuer",
        "oidc_subject",
        "deactivated_at",
        "deactivated_via",
        "updated_at",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False


User = get_user_model()


class DirectoryUserAdmin(UserAdmin):
    inlines = [*UserAdmin.inlines, PersonInline]
    list_display = [*UserAdmin.list_display, "is_active"]
    list_filter = [*UserAdmin.list_filter, "person__source"]


if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, DirectoryUserAdmin)
