# The platform team may revoke anyone's API token (catalog.permissions.visible_tokens_filter);
# this gives the group the same in the admin: view and change (the admin's "Revoke selected
# tokens" action needs change; the admin edits no field of a token and adds none). Created
# when missing, with the names Django gives them, like 0004_role_groups. Reversing leaves
# the grants alone: an admin may have made them by hand.
#
# No dependency on core's migrations: only the content type and permission rows are needed,
# and tying catalog's plan to core's would let core.0001 run before catalog.0003 frees the
# job-run index name it reuses.

from django.db import migrations

PLATFORM_GROUP = "platform-team"


def grant_token_admin(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="core", model="apitoken")
    granted = [
        Permission.objects.get_or_create(
            content_type=content_type,
            codename=f"{action}_apitoken",
            defaults={"name": f"Can {action} API token"},
        )[0]
        for action in ("view", "change")
    ]
    platform, _ = Group.objects.get_or_create(name=PLATFORM_GROUP)
    platform.permissions.add(*granted)


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_backstage_import_jobs"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [
        migrations.RunPython(grant_token_admin, migrations.RunPython.noop),
    ]
