"""The account's MRR copied onto its facts, like its shape and plan, so the ranked constraint
list's risk weight (shape value × MRR) reads the cohort from the facts alone. Then the facts
of existing accounts are rebuilt (``_facts_fill``): the MRR copies, and 0007's namesake flags."""

from django.db import migrations, models

from reports.migrations._facts_fill import fill_facts_when_current


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_facts_namesake_candidate"),
        # The rebuild reads these apps' tables as the current code knows them.
        ("accounts", "0017_refunds_and_disputes_reapplied"),
        ("routing", "0011_ticket_created_account_index"),
        ("opsconsole", "0015_task_failure"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountfacts",
            name="mrr_cents",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(fill_facts_when_current, migrations.RunPython.noop, elidable=False),
    ]
