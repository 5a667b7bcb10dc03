"""The facts' fill, for the migrations that add facts columns. It runs the live rebuild
(``reports.facts.facts_rebuild``, the facts' one definition), so it must only run once the
table has every column the live model writes: a database migrating from further back skips it
in each earlier migration on its way (the live code would write columns not there yet) and is
filled by the newest one. (A name starting with "_" is not a migration to Django's loader.)"""


def fill_facts_when_current(apps, schema_editor):
    if not apps.get_model("accounts", "Account").objects.exists():
        return
    from reports.facts import facts_rebuild  # late: the live code, not a historical model
    from reports.models import AccountFacts

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        table = connection.introspection.get_table_description(cursor, AccountFacts._meta.db_table)
    if {field.column for field in AccountFacts._meta.concrete_fields} <= {column.name for column in table}:
        facts_rebuild()
