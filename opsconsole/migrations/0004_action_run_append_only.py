"""Make ActionRun append-only in the database too: no DELETE, and the intent columns frozen.

PostgreSQL only; the embedded SQLite of ``make run`` relies on the model's save guard.
"""

from django.db import migrations

FROZEN = [
    "action",
    "actor_id",
    "target_type_id",
    "target_id",
    "account_id",
    "params",
    "evidence",
    "runbook_id",
    "entry_point",
    "request_id",
    "idempotency_key",
    "reversal_of_id",
    "created_at",
]

CREATE = """
CREATE OR REPLACE FUNCTION opsconsole_actionrun_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'opsconsole_actionrun is append-only: runs are never deleted';
    END IF;
    IF {changed} THEN
        RAISE EXCEPTION 'opsconsole_actionrun is append-only: the intent of a run cannot change';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS opsconsole_actionrun_append_only ON opsconsole_actionrun;
CREATE TRIGGER opsconsole_actionrun_append_only
    BEFORE UPDATE OR DELETE ON opsconsole_actionrun
    FOR EACH ROW EXECUTE FUNCTION opsconsole_actionrun_append_only();
""".format(changed=" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in FROZEN))

DROP = """
DROP TRIGGER IF EXISTS opsconsole_actionrun_append_only ON opsconsole_actionrun;
DROP FUNCTION IF EXISTS opsconsole_actionrun_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0003_guarded_actions")]
    operations = [migrations.RunPython(forwards, backwards)]
