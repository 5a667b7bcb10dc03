"""Facts for the accounts that exist already (the receivers keep new ones current)."""

from django.db import migrations


def build(apps, schema_editor):
    if not apps.get_model("accounts", "Account").objects.exists():
        return
    # late import: the rebuild is the facts' one definition (reports.facts), built from the
    # current code; a database with accounts gets it once here, as after a bulk load.
    from reports.facts import facts_rebuild

    facts_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0002_roles_leadership_analytics"),
        ("accounts", "0007_unattributed_channel"),
    ]
    operations = [migrations.RunPython(build, migrations.RunPython.noop)]
