"""The permissions of the guarded actions that work a ticket (routing/actions.py).

An action's permission is ``opsconsole.run_<name>`` on the action run's content type, like
every other action's; opsconsole/roles.py names the roles that hold them, and the roles are
synced after every migrate.
"""

from django.db import migrations

TICKET_ACTIONS = (
    "take_ticket",
    "mark_first_response",
    "wait_on_customer",
    "resume_ticket",
    "reassign_ticket",
    "solve_ticket",
    "escalate_ticket",
)


def create_permissions(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    # Content types are otherwise made after the last migration; make this one now.
    action_run, _ = ContentType.objects.get_or_create(app_label="opsconsole", model="actionrun")
    for name in TICKET_ACTIONS:
        Permission.objects.get_or_create(
            content_type=action_run, codename=f"run_{name}", defaults={"name": f"Can run the {name} action"}
        )


def drop_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="opsconsole", codename__in=[f"run_{name}" for name in TICKET_ACTIONS]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("opsconsole", "0003_guarded_actions"),
        ("routing", "0004_sla_check_indexes"),
    ]

    operations = [migrations.RunPython(create_permissions, drop_permissions)]
