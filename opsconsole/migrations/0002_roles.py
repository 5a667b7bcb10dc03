"""Create the roles (opsconsole.roles) with their model permissions."""

from django.db import migrations

from opsconsole.roles import sync_roles_in_migration


def create_roles(apps, schema_editor):
    sync_roles_in_migration(apps)


def drop_roles(apps, schema_editor):
    from opsconsole.roles import ALL_ROLES

    apps.get_model("auth", "Group").objects.filter(name__in=ALL_ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("opsconsole", "0001_initial"),
        ("accounts", "0002_seed_reason_codes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]
    operations = [migrations.RunPython(create_roles, drop_roles)]
