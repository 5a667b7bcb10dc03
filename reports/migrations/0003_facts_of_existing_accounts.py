"""Facts for the accounts that exist already (the receivers keep new ones current)."""

from django.db import migrations


def build(apps, schema_editor):
    # The rebuild (reports.facts) writes the current code's columns, some of which a later
    # migration adds: 0006_facts_journey_firsts rebuilds the facts of existing accounts once
    # every column exists, so nothing is done here any more.
    return


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_roles_leadership_analytics"),
        ("accounts", "0007_unattributed_channel"),
    ]
    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
