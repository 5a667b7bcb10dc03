"""The stored duplicate-workspace candidate flag (``reports.namesakes``) and the partial index
the data-quality panel reads the marked and candidate rows of a range by. Existing accounts'
flags are set by the facts' fill in 0008."""

from django.db import migrations, models


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
        migrations.AddIndex(
            model_name="accountfacts",
            index=models.Index(
                condition=models.Q(("is_duplicate", True), ("namesake_candidate", True), _connector="OR"),
                fields=["signed_up_at"],
                name="facts_duplicate_workspace_idx",
            ),
        ),
    ]
