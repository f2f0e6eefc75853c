# Tokens of DRF's rest_framework.authtoken, which stored each key in clear text and never
# expired, become hashed ApiTokens named "migrated" that expire after the default lifetime:
# scripts keep working with the key they have, and the clear-text keys are deleted from the
# old table (its now-empty table is left for the operator to drop: docs/operations.md).
#
# The old app is no longer installed, so its table is read with SQL, and only if it exists
# (a database created after this change never had it). The digest is computed here rather
# than imported: a migration must mean the same thing whatever core.tokens becomes.
# Not reversible: a hash cannot give the keys back.

import hashlib
from datetime import UTC, timedelta

from django.conf import settings
from django.db import migrations
from django.utils import timezone
from django.utils.dateparse import parse_datetime

OLD_TABLE = "authtoken_token"


def _when(value, default):
    # SQLite hands raw SQL datetimes back as text, naive in UTC.
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return default
    return value if timezone.is_aware(value) else timezone.make_aware(value, UTC)


def hash_cleartext_tokens(apps, schema_editor):
    connection = schema_editor.connection
    if OLD_TABLE not in connection.introspection.table_names():
        return
    ApiToken = apps.get_model("core", "ApiToken")
    table = schema_editor.quote_name(OLD_TABLE)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {schema_editor.quote_name('key')}, user_id, created FROM {table}")
        rows = cursor.fetchall()
    now = timezone.now()
    expires_at = now + timedelta(days=getattr(settings, "APPKEEPER_API_TOKEN_DAYS", 90))
    ApiToken.objects.bulk_create(
        ApiToken(
            user_id=user_id,
            name="migrated",
            prefix=key[:8],
            digest=hashlib.sha256(key.encode("utf-8")).hexdigest(),
            created=_when(created, now),
            expires_at=expires_at,
        )
        for key, user_id, created in rows
    )
    with connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_api_tokens"),
    ]

    operations = [
        migrations.RunPython(hash_cleartext_tokens, migrations.RunPython.noop),
    ]
