"""The step-gap funnel's journey on the facts row: the first time each step was reached, the
first staff touch and a copy of ``activated_at``; filled for the accounts that exist already
(the receivers keep them current from here on), unless a later migration adds more columns
and fills them all (``_facts_fill``)."""

from django.db import migrations, models

from reports.migrations._facts_fill import fill_facts_when_current


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
        migrations.RunPython(fill_facts_when_current, migrations.RunPython.noop),
    ]
