# App and team names refuse control characters: a name with a line break made every email
# about the app unsendable (a header cannot hold it). Existing rows are left as they are;
# email subjects are made one line when sent.

from django.db import migrations, models

import catalog.models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0004_role_groups"),
    ]

    operations = [
        migrations.AlterField(
            model_name="microapp",
            name="name",
            field=models.CharField(
                max_length=120, validators=[catalog.models.common.no_control_characters]
            ),
        ),
        migrations.AlterField(
            model_name="team",
            name="name",
            field=models.CharField(
                max_length=100,
                unique=True,
                validators=[catalog.models.common.no_control_characters],
            ),
        ),
    ]
