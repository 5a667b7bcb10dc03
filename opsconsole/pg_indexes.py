"""Indexes only PostgreSQL can have (expressions with its operator classes, ``pg_trgm``), for
migrations: ``migrations.RunPython(*postgres_indexes({name: "table USING ... (...)"}))``.
Elsewhere (SQLite under ``make run``) the step does nothing."""


def postgres_indexes(indexes: dict[str, str]):
    """(forwards, backwards) functions creating and dropping ``indexes`` on PostgreSQL."""

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name, definition in indexes.items():
                schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for name in indexes:
                schema_editor.execute(f"DROP INDEX IF EXISTS {name}")

    return forwards, backwards
