"""Many rows of one model in one statement, for the paths that write a page at a time.

Django's ``bulk_update`` builds a CASE per field per row, ``bulk_create`` formats every
value of every row into the SQL text, and simple-history's bulk helper builds a model
instance per history row. A reconciliation page of 500 accounts spent most of its time
there. On PostgreSQL these helpers send one array parameter per column (``unnest``), so the
statement stays the same size whatever the number of rows. Elsewhere (SQLite under
``make run``) they fall back to the ORM's bulk methods, which do the same work more slowly.
"""

from django.db import connection, transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from opsconsole.history import current_actor
from opsconsole.signals import rows_updated


def insert_rows(objs: list, *, ignore_conflicts: bool = False) -> None:
    """Insert unsaved instances of one model, like ``bulk_create``: no signals, no primary
    keys set on the instances, and with ``ignore_conflicts`` rows that break a unique
    constraint are skipped."""
    if not objs:
        return
    model = type(objs[0])
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, ignore_conflicts=ignore_conflicts)
        return
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [field for field in meta.concrete_fields if not field.primary_key]
    arrays = [
        [column.get_db_prep_save(column.pre_save(obj, add=True), connection) for obj in objs]
        for column in columns
    ]
    names = ", ".join(quote(column.column) for column in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest("
            + ", ".join(f"%s::{_cast_type(column)}[]" for column in columns)
            + ")"
            + (" ON CONFLICT DO NOTHING" if ignore_conflicts else ""),
            arrays,
        )


def update_rows_with_history(objs: list, fields: list[str]) -> None:
    """Write ``fields`` of many rows of one model, each with its history row attributed to
    the current actor, in two statements whatever the number of rows.

    The rows must be locked by the caller. The history is one ``INSERT ... SELECT`` of the
    rows as stored, so each history row is exactly what the database holds.
    """
    if not objs:
        return
    model = type(objs[0])
    actor = current_actor()
    now = timezone.now()
    if connection.vendor != "postgresql":
        bulk_update_with_history(objs, model, fields, default_user=actor, default_date=now)
        rows_updated.send(sender=model, pks=[obj.pk for obj in objs], fields=list(fields))
        return
    meta = model._meta
    quote = connection.ops.quote_name
    table, pk = quote(meta.db_table), quote(meta.pk.column)
    columns = [meta.pk, *(meta.get_field(name) for name in fields)]
    arrays = [
        [column.get_db_prep_save(getattr(obj, column.attname), connection) for obj in objs]
        for column in columns
    ]
    history = model.history.model
    tracked = [field.attname for field in history.tracked_fields]
    own = ["history_date", "history_change_reason", "history_type", "history_user"]
    target = [quote(history._meta.get_field(name).column) for name in [*tracked, *own]]
    source = [f"t.{quote(meta.get_field(name).column)}" for name in tracked]
    with transaction.atomic(savepoint=False), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} AS t SET "
            + ", ".join(f"{quote(c.column)} = v.{quote(c.column)}" for c in columns[1:])
            + " FROM unnest("
            + ", ".join(f"%s::{_cast_type(c)}[]" for c in columns)
            + ") AS v("
            + ", ".join(quote(c.column) for c in columns)
            + f") WHERE t.{pk} = v.{pk}",
            arrays,
        )
        cursor.execute(
            f"INSERT INTO {quote(history._meta.db_table)} ({', '.join(target)}) "
            f"SELECT {', '.join(source)}, %s, NULL, '~', %s FROM {table} AS t "
            f"WHERE t.{pk} = ANY(%s) ORDER BY t.{pk}",
            [now, getattr(actor, "pk", None), arrays[0]],
        )
        rows_updated.send(sender=model, pks=arrays[0], fields=list(fields))


def _cast_type(field) -> str:
    # An explicit cast to varchar(n) truncates silently; text is checked against the column's
    # length when it is assigned, so an over-long value still fails loudly.
    db_type = field.db_type(connection)
    return "text" if db_type.startswith(("varchar", "char")) else db_type
