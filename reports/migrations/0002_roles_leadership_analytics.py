"""The roles reports brings: ``leadership`` (staff: reads reports and gates) and ``analytics``
(a service: reads the reports API), with ``reports.view_dashboard`` for them and ops leads.
Made as the first roles migration made the others (opsconsole 0002); post_migrate keeps them
whole afterwards."""

from django.db import migrations

from opsconsole.roles import sync_roles_in_migration


def create_roles(apps, schema_editor):
    sync_roles_in_migration(apps)


def drop_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=["leadership", "analytics"]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("reports", "0001_facts_and_snapshots"),
        ("opsconsole", "0010_action_run_states_from_changes"),
        ("routing", "0004_sla_check_indexes"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
