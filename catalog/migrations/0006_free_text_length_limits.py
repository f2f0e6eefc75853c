# Free text (descriptions, retirement reasons, review comments) is limited to 5,000
# characters; before, a 9 MB description was accepted. TextField keeps the column as it is.

import django.core.validators
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0005_names_refuse_control_characters"),
    ]

    operations = [
        migrations.AlterField(
            model_name="microapp",
            name="description",
            field=models.TextField(
                blank=True,
                max_length=5000,
                validators=[django.core.validators.MaxLengthValidator(5000)],
            ),
        ),
        migrations.AlterField(
            model_name="microapp",
            name="retired_reason",
            field=models.TextField(
                blank=True,
                max_length=5000,
                validators=[django.core.validators.MaxLengthValidator(5000)],
            ),
        ),
        migrations.AlterField(
            model_name="review",
            name="comment",
            field=models.TextField(
                blank=True,
                max_length=5000,
                validators=[django.core.validators.MaxLengthValidator(5000)],
            ),
        ),
    ]
