"""The built-in ``unattributed`` channel: a signup whose attribution was lost goes here instead
of being refused (``account_create`` without a channel). And who resolved each exception
resolved before ``resolved_by`` existed, from its history: the user of its first history row
in the resolved state."""

from django.db import migrations


def create_channel(apps, schema_editor):
    apps.get_model("accounts", "Channel").objects.get_or_create(
        code="unattributed", defaults={"name": "Unattributed", "kind": "unattributed"}
    )


def backfill_resolved_by(apps, schema_editor):
    OpsException = apps.get_model("accounts", "OpsException")
    History = apps.get_model("accounts", "HistoricalOpsException")
    unknown = OpsException.objects.filter(status="resolved", resolved_by__isnull=True)
    for pk in unknown.values_list("pk", flat=True).iterator():
        first = (
            History.objects.filter(id=pk, status="resolved", history_user__isnull=False)
            .order_by("history_date", "history_id")
            .values_list("history_user_id", flat=True)
            .first()
        )
        if first is not None:
            OpsException.objects.filter(pk=pk).update(resolved_by_id=first)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0006_resolved_by_unattributed_kind")]

    operations = [
        migrations.RunPython(create_channel, migrations.RunPython.noop),
        migrations.RunPython(backfill_resolved_by, migrations.RunPython.noop),
    ]
