"""Guarded actions' permissions come from the registry (opsconsole.actions.permissions makes
their rows after every migrate), so ActionRun's Meta names no action. The rows made before
stay, and the roles keep holding them through the roles each action names."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0007_one_approval_request_per_action_and_target")]

    operations = [
        migrations.AlterModelOptions(
            name="actionrun",
            options={
                "ordering": ["-created_at", "-id"],
                "permissions": [("approve_actionrun", "Can approve or reject another person's action")],
            },
        ),
    ]
