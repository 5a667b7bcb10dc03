"""Make the login audit append-only in the database too: no UPDATE, no DELETE.

PostgreSQL only; the embedded SQLite of ``make run`` relies on the model's save guard.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION opsconsole_loginevent_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'opsconsole_loginevent is append-only: sign-in events are never changed or deleted';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS opsconsole_loginevent_append_only ON opsconsole_loginevent;
CREATE TRIGGER opsconsole_loginevent_append_only
    BEFORE UPDATE OR DELETE ON opsconsole_loginevent
    FOR EACH ROW EXECUTE FUNCTION opsconsole_loginevent_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS opsconsole_loginevent_append_only ON opsconsole_loginevent;
DROP FUNCTION IF EXISTS opsconsole_loginevent_append_only();
"""


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0011_staff_sign_in")]
    operations = [migrations.RunPython(forwards, backwards)]
