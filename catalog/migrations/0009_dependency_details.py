"""Dependencies get a model of their own (same table, same columns) and the details impact
analysis needs: the operations a dependent calls and the versions it is pinned to."""

import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0008_platform_team_manages_api_tokens"),
    ]

    operations = [
        # The table Django made for the plain many-to-many becomes the through model's:
        # only the project state changes, no row moves.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Dependency",
                    fields=[
                        ("id", models.AutoField(primary_key=True, serialize=False)),
                        (
                            "from_microapp",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="dependency_links",
                                to="catalog.microapp",
                            ),
                        ),
                        (
                            "to_microapp",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="dependent_links",
                                to="catalog.microapp",
                            ),
                        ),
                    ],
                    options={
                        "db_table": "catalog_microapp_depends_on",
                        "unique_together": {("from_microapp", "to_microapp")},
                    },
                ),
                migrations.AlterField(
                    model_name="microapp",
                    name="depends_on",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="dependents",
                        through="catalog.Dependency",
                        through_fields=("from_microapp", "to_microapp"),
                        to="catalog.microapp",
                    ),
                ),
            ],
        ),
        migrations.AddField(
            model_name="dependency",
            name="uses",
            field=models.JSONField(blank=True, default=list),
        ),
        migrations.AddField(
            model_name="dependency",
            name="version_range",
            field=models.CharField(blank=True, max_length=50),
        ),
        migrations.AddField(
            model_name="dependency",
            name="created_at",
            field=models.DateTimeField(default=django.utils.timezone.now),
        ),
        migrations.AddIndex(
            model_name="dependency",
            index=models.Index(fields=["to_microapp", "from_microapp"], name="dependency_to_idx"),
        ),
    ]
