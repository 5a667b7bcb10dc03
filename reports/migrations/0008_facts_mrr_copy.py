"""The account's MRR copied onto its facts, like its shape and plan, so the ranked constraint
list's risk weight (shape value × MRR) reads the cohort from the facts alone; copied here for
existing accounts in one UPDATE."""

from django.db import migrations, models


def copy_existing_mrr(apps, schema_editor):
    account = apps.get_model("accounts", "Account")
    facts = apps.get_model("reports", "AccountFacts")
    of_account = account.objects.filter(pk=models.OuterRef("account_id")).values("mrr_cents")[:1]
    facts.objects.exclude(account__mrr_cents=0).update(mrr_cents=models.Subquery(of_account))


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0007_facts_namesake_candidate"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountfacts",
            name="mrr_cents",
            field=models.PositiveIntegerField(default=0),
        ),
        migrations.RunPython(copy_existing_mrr, migrations.RunPython.noop, elidable=False),
    ]
