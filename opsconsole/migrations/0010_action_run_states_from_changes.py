"""ActionRun.before_state and after_state were ``changes`` reshaped, stored twice: they are
computed from ``changes`` now. The one thing they held beside it, the derived values a run
moved (entitlements), moves to ``derived_changes``, in the shape of a preview's."""

from django.db import migrations, models

RUN_MODELS = ("ActionRun", "HistoricalActionRun")


def derived_to_changes(apps, schema_editor):
    for name in RUN_MODELS:
        model = apps.get_model("opsconsole", name)
        for run in model.objects.filter(before_state__has_key="derived").iterator():
            before, after = run.before_state["derived"], run.after_state.get("derived", {})
            run.derived_changes = [
                {"key": key, "before": before.get(key), "after": after.get(key)}
                for key in sorted(set(before) | set(after))
                if before.get(key) != after.get(key)
            ]
            run.save(update_fields=["derived_changes"])


def changes_to_states(apps, schema_editor):
    for name in RUN_MODELS:
        model = apps.get_model("opsconsole", name)
        for run in model.objects.exclude(changes=[], derived_changes=[]).iterator():
            before, after = {}, {}
            for change in run.changes:
                key = f"{change['model']}:{change['pk']}"
                for field in change["fields"]:
                    before.setdefault(key, {}).setdefault(field["field"], field["before"])
                    after.setdefault(key, {})[field["field"]] = field["after"]
            if run.derived_changes:
                before["derived"] = {d["key"]: d["before"] for d in run.derived_changes}
                after["derived"] = {d["key"]: d["after"] for d in run.derived_changes}
            run.before_state, run.after_state = before, after
            run.save(update_fields=["before_state", "after_state"])


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0009_outbox_destinations_registered")]

    operations = [
        *(
            migrations.AddField(
                model_name=model_name,
                name="derived_changes",
                field=models.JSONField(blank=True, default=list),
            )
            for model_name in ("actionrun", "historicalactionrun")
        ),
        migrations.RunPython(derived_to_changes, changes_to_states),
        *(
            migrations.RemoveField(model_name=model_name, name=field)
            for model_name in ("actionrun", "historicalactionrun")
            for field in ("before_state", "after_state")
        ),
    ]
