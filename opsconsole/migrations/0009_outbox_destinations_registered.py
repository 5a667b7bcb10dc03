"""Outbox destinations come from a registry the apps fill (the CRM is accounts'), so the
field's choices are a callable: a new destination needs no migration. No database change."""

from django.db import migrations, models

import opsconsole.outbox_destinations


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0008_action_permissions_from_the_registry")]

    operations = [
        migrations.AlterField(
            model_name=model_name,
            name="destination",
            field=models.CharField(
                choices=opsconsole.outbox_destinations.destination_choices, default="product", max_length=16
            ),
        )
        for model_name in ("historicaloutboxmessage", "outboxmessage")
    ]
