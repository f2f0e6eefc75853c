"""The role groups: created by a migration with the admin's permissions, and granted with
``manage.py grant_role``."""

from __future__ import annotations

import importlib
import io

import pytest
from django.apps import apps as django_apps
from django.contrib import admin
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command

from catalog.choices import FINANCE_GROUP, PLATFORM_GROUP
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

role_groups = importlib.import_module("catalog.migrations.0004_role_groups")
observed_calls = importlib.import_module("lifecycle.migrations.0004_observed_calls")
# Models added to the admin after the groups were made, read-only, with the migration
# that grants them: only their view permission is the platform team's.
LATER_READ_ONLY = {("lifecycle", "observedcall"): observed_calls.grant_observed_call_view}


def codenames(group_name: str) -> set[str]:
    group = Group.objects.get(name=group_name)
    return {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.all()}


def admin_models():
    for label in ("catalog", "lifecycle", "scorecards"):
        for model in django_apps.get_app_config(label).get_models():
            if admin.site.is_registered(model):
                yield label, model._meta.model_name


def test_the_migration_creates_both_groups_with_the_admins_permissions_idempotently():
    Group.objects.filter(name__in=[PLATFORM_GROUP, FINANCE_GROUP]).delete()
    extra = Permission.objects.get(codename="view_user")
    for _ in range(2):
        role_groups.create_role_groups(django_apps, None)
        for grant in LATER_READ_ONLY.values():
            grant(django_apps, None)
        Group.objects.get(name=FINANCE_GROUP).permissions.add(extra)  # an admin's own grant
    assert Group.objects.filter(name__in=[PLATFORM_GROUP, FINANCE_GROUP]).count() == 2

    expected = {
        f"{label}.{action}_{model}"
        for label, model in admin_models()
        for action in (
            ("view",) if (label, model) in LATER_READ_ONLY else ("view", "add", "change")
        )
    }
    assert codenames(PLATFORM_GROUP) == expected, "grant new admin models in a new migration"
    assert not any(".delete_" in c for c in codenames(PLATFORM_GROUP))
    assert codenames(FINANCE_GROUP) == {
        "lifecycle.view_usagereport",
        "scorecards.view_scorecard",
        "catalog.view_team",
        "auth.view_user",  # kept: the migration only adds
    }
    # Same names as the permissions Django creates itself.
    assert Permission.objects.get(codename="view_usagereport").name == "Can view usage report"


def test_grant_role_makes_a_platform_admin(capsys):
    role_groups.create_role_groups(django_apps, None)
    admin_user = UserFactory(username="ada")
    for _ in range(2):
        call_command("grant_role", "ada", PLATFORM_GROUP)
    admin_user.refresh_from_db()
    assert admin_user.is_staff
    assert list(admin_user.groups.values_list("name", flat=True)) == [PLATFORM_GROUP]
    assert admin_user.has_perm("catalog.change_microapp")
    assert not admin_user.has_perm("catalog.delete_microapp")
    assert "ada is in platform-team" in capsys.readouterr().out


def test_grant_role_refuses_unknown_users_and_roles():
    with pytest.raises(CommandError, match="No active user"):
        call_command("grant_role", "nobody", FINANCE_GROUP)
    UserFactory(username="eve")
    with pytest.raises(CommandError):
        call_command("grant_role", "eve", "admins")


def test_the_demo_loader_uses_the_migrated_groups():
    Group.objects.all().delete()
    with pytest.raises(CommandError, match="run `manage.py migrate`"):
        call_command("load_demo", "--usage-days", "1", stdout=io.StringIO())
    role_groups.create_role_groups(django_apps, None)
    groups = {g.name: g.pk for g in Group.objects.all()}
    call_command("load_demo", "--usage-days", "1", stdout=io.StringIO())
    assert {g.name: g.pk for g in Group.objects.all()} == groups
    assert codenames(PLATFORM_GROUP) >= {"catalog.change_microapp"}
    pat = Group.objects.get(name=PLATFORM_GROUP).user_set.get()
    assert pat.username == "pat" and pat.has_perm("lifecycle.view_sunsetcase")
