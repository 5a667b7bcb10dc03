"""The step-gap funnel's journey on the facts row: the first time each step was reached, the
first staff touch and a copy of ``activated_at``; filled for the accounts that exist already
(the receivers keep them current from here on)."""

from django.db import migrations, models


def fill(apps, schema_editor):
    if not apps.get_model("accounts", "Account").objects.exists():
        return
    # late import: the rebuild is the facts' one definition (reports.facts), as in 0003.
    from reports.facts import facts_rebuild

    facts_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0005_facts_channel_cover_index"),
        # The rebuild reads these apps' tables as the current code knows them.
        ("accounts", "0012_reasoncode_runbook_from_rows"),
        ("routing", "0011_ticket_created_account_index"),
        ("opsconsole", "0015_task_failure"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountfacts",
            name="activated_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="approved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="changed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="first_escalation_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="first_ticket_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="first_touch_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="invited_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="plan_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="setup_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="accountfacts",
            name="workspace_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
