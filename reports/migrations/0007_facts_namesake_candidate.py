"""The stored duplicate-workspace candidate flag (``reports.namesakes``), set for existing
accounts from its definition (``accounts.namesakes.candidate_q``: one probe of
``account_namesake_idx`` per unmarked account), and the partial index the data-quality panel
reads the marked and candidate rows of a range by."""

from django.db import migrations, models

from accounts.namesakes import candidate_q


def flag_existing_candidates(apps, schema_editor):
    account = apps.get_model("accounts", "Account")
    facts = apps.get_model("reports", "AccountFacts")
    candidates = account.objects.filter(candidate_q(account)).values("pk")
    facts.objects.filter(account_id__in=candidates).update(namesake_candidate=True)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0015_account_namesake_index"),
        ("reports", "0006_facts_journey_firsts"),
    ]

    operations = [
        migrations.AddField(
            model_name="accountfacts",
            name="namesake_candidate",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(flag_existing_candidates, migrations.RunPython.noop, elidable=False),
        migrations.AddIndex(
            model_name="accountfacts",
            index=models.Index(
                condition=models.Q(("is_duplicate", True), ("namesake_candidate", True), _connector="OR"),
                fields=["signed_up_at"],
                name="facts_duplicate_workspace_idx",
            ),
        ),
    ]
