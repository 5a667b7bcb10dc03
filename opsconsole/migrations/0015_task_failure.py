"""Celery task failures and retries, recorded by the tasks (``opsconsole.task_failures``):
one row per (task id, attempt), append-only in the database too (no UPDATE, no DELETE).

The trigger is PostgreSQL only; the embedded SQLite of ``make run`` relies on the model's
save guard. The view permission joins the ops_lead role (``opsconsole.view_*``) when the
roles are synced after migrate.
"""

from django.db import migrations, models

import opsconsole.request_id

CREATE = """
CREATE OR REPLACE FUNCTION opsconsole_taskfailure_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'opsconsole_taskfailure is append-only: task failures are never changed or deleted';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS opsconsole_taskfailure_append_only ON opsconsole_taskfailure;
CREATE TRIGGER opsconsole_taskfailure_append_only
    BEFORE UPDATE OR DELETE ON opsconsole_taskfailure
    FOR EACH ROW EXECUTE FUNCTION opsconsole_taskfailure_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS opsconsole_taskfailure_append_only ON opsconsole_taskfailure;
DROP FUNCTION IF EXISTS opsconsole_taskfailure_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0014_service_token_rotation_scopes_expiry")]

    operations = [
        migrations.CreateModel(
            name="TaskFailure",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("task_name", models.CharField(max_length=200)),
                ("task_id", models.CharField(max_length=255)),
                ("attempt", models.PositiveIntegerField()),
                (
                    "kind",
                    models.CharField(choices=[("failed", "Failed"), ("retried", "Retried")], max_length=16),
                ),
                ("args_summary", models.CharField(blank=True, max_length=500)),
                ("exception_class", models.CharField(max_length=200)),
                ("message", models.TextField(blank=True)),
                ("occurred_at", models.DateTimeField()),
                (
                    "request_id",
                    models.CharField(
                        blank=True,
                        default=opsconsole.request_id.current_request_id,
                        editable=False,
                        help_text="The X-Request-ID of the request (or of the task it enqueued) that wrote this row.",
                        max_length=100,
                        verbose_name="X-Request-ID",
                    ),
                ),
            ],
            options={
                "ordering": ["-occurred_at", "-id"],
                "indexes": [models.Index(fields=["occurred_at"], name="task_failure_day_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("task_id", "attempt"), name="task_failure_once_per_attempt"
                    )
                ],
            },
        ),
        migrations.RunPython(forwards, backwards),
    ]
