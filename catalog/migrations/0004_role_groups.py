# The two role groups of catalog.permissions, with the model permissions the Django admin
# needs for them. Before this, only the demo loader created the groups, so a fresh
# installation had no way to make a platform admin short of creating them by hand.
#
# The models are listed as they are now, not read from the app registry: the lifecycle and
# scorecards apps migrate after catalog, and a migration must mean the same thing forever.
# Permissions and content types are created here when missing (Django only creates them
# after the last migration), with the names Django would give them.
#
# Idempotent: running it on a database where the groups exist only adds what is missing,
# and keeps whatever an admin granted since. Reversing it leaves the groups alone.

from django.db import migrations

PLATFORM_GROUP = "platform-team"
FINANCE_GROUP = "finance"

# (app label, model, verbose name) of every model the admin shows.
ADMIN_MODELS = [
    ("catalog", "team", "team"),
    ("catalog", "region", "region"),
    ("catalog", "microapp", "micro app"),
    ("catalog", "auditevent", "audit event"),
    ("catalog", "contract", "contract"),
    ("catalog", "review", "review"),
    ("catalog", "notification", "notification"),
    ("lifecycle", "renewal", "renewal"),
    ("lifecycle", "reminder", "reminder"),
    ("lifecycle", "sunsetcase", "sunset case"),
    ("lifecycle", "usagereport", "usage report"),
    ("lifecycle", "telemetrydelivery", "telemetry delivery"),
    ("scorecards", "scorecard", "scorecard"),
]
# Nothing is hard-deleted (apps are retired), so nobody gets a delete permission.
PLATFORM_ACTIONS = ("view", "add", "change")
# Finance reads usage and cost: daily usage with its cost, the scorecards' cost figures,
# and the teams' cost centres.
FINANCE_MODELS = {("lifecycle", "usagereport"), ("scorecards", "scorecard"), ("catalog", "team")}


def create_role_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")

    def permission(app_label, model, verbose_name, action):
        content_type, _ = ContentType.objects.get_or_create(app_label=app_label, model=model)
        found, _ = Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_{model}",
            defaults={"name": f"Can {action} {verbose_name}"},
        )
        return found

    platform, _ = Group.objects.get_or_create(name=PLATFORM_GROUP)
    platform.permissions.add(
        *(permission(*m, action) for m in ADMIN_MODELS for action in PLATFORM_ACTIONS)
    )
    finance, _ = Group.objects.get_or_create(name=FINANCE_GROUP)
    finance.permissions.add(
        *(permission(*m, "view") for m in ADMIN_MODELS if m[:2] in FINANCE_MODELS)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0003_delete_jobrun"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(create_role_groups, migrations.RunPython.noop),
    ]
