"""The secondary indexes of the bulk-loaded tables: dropped before the COPY, rebuilt after it.

Rebuilding is most of a large load's time after the COPY, and the set-based derivation that
follows it (``bench.bulk_sql``) runs on one core: it reads the timeline through its primary key
and sequential scans only. So the indexes are rebuilt beside it, on connections of their own:

- the timeline's and the tickets' indexes while the derivation runs (it only reads those
  tables, and ``CREATE INDEX`` lets readers through);
- the accounts' after it commits (the derivation updates every new account: an index built
  afterwards is not maintained row by row), beside the facts rebuild, which only reads them.

A unique constraint is rebuilt in two steps: its unique index first, like any other, then the
constraint attached to that index (``ADD CONSTRAINT ... USING INDEX``, a catalogue change),
because ``ADD CONSTRAINT ... UNIQUE`` locks the whole table and would queue behind the
derivation's reads.
"""

import re
import threading
import time
from dataclasses import dataclass

from django.db import connection

# pg_get_constraintdef of a plain unique constraint: rebuildable as an index plus an attach.
_PLAIN_UNIQUE = re.compile(r"UNIQUE \((?P<columns>[^()]+)\)")


@dataclass(frozen=True)
class Rebuild:
    table: str
    # None: nothing to build beforehand (the attach alone restores it).
    build: str | None
    # Runs once every build has finished (a unique constraint attached to its index).
    attach: str | None = None


def drop_secondary_indexes(tables) -> list[Rebuild]:
    """Drop the secondary indexes and unique constraints of ``tables`` (not their primary
    keys, which foreign keys need); returns how to rebuild them."""
    rebuilds = []
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(
                "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
                "WHERE c.conrelid = %s::regclass AND c.contype = 'u'",
                [table],
            )
            constraints = cursor.fetchall()
            cursor.execute(
                "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
                "WHERE i.indrelid = %s::regclass AND NOT i.indisprimary AND NOT EXISTS "
                "(SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)",
                [table],
            )
            indexes = cursor.fetchall()
            for name, definition in constraints:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
                rebuilds.append(_constraint_rebuild(table, name, definition))
            for name, definition in indexes:
                cursor.execute(f"DROP INDEX {name}")
                rebuilds.append(Rebuild(table, definition))
    return rebuilds


def _constraint_rebuild(table: str, name: str, definition: str) -> Rebuild:
    plain = _PLAIN_UNIQUE.fullmatch(definition)
    if plain is None:  # NULLS NOT DISTINCT, INCLUDE, DEFERRABLE...: rebuilt as it was, last
        return Rebuild(table, None, f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
    return Rebuild(
        table,
        f'CREATE UNIQUE INDEX "{name}" ON {table} ({plain["columns"]})',
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" UNIQUE USING INDEX "{name}"',
    )


class IndexBuilder:
    """Runs the builds of ``rebuilds`` on a connection of its own, in a thread; ``join`` waits
    for them and re-raises the first failure."""

    def __init__(self, rebuilds: list[Rebuild], *, timings: dict, log, label: str):
        self.rebuilds = rebuilds
        self.timings = timings
        self.log = log
        self.label = label
        self.error: BaseException | None = None
        self.started = False
        self.thread = threading.Thread(target=self._run, name=f"bulk {label}", daemon=True)

    def start(self) -> "IndexBuilder":
        self.started = True
        self.thread.start()
        return self

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                for rebuild in self.rebuilds:
                    if rebuild.build:
                        cursor.execute(rebuild.build)
        except BaseException as error:  # handed to the thread that joins
            self.error = error
        finally:
            connection.close()  # this thread's own connection
            elapsed = time.perf_counter() - started
            self.timings[self.label] = elapsed
            self.log(f"bulk: {self.label}: {len(self.rebuilds)} indexes, {elapsed:.1f} s")

    def join(self, *, quietly: bool = False) -> None:
        """Wait for the builds (none if never started); ``quietly`` logs a failure rather than
        raising it, for a caller already handling an error of its own."""
        if not self.started:
            return
        self.thread.join()
        if self.error is not None:
            if not quietly:
                raise self.error
            self.log(f"bulk: {self.label} failed: {self.error!r}")

    def finish(self, *, quietly: bool = False) -> None:
        """Start the builds if they were not, and wait for them."""
        if not self.started:
            self.start()
        self.join(quietly=quietly)


def attach_constraints(rebuilds: list[Rebuild], *, quietly: bool = False, log=print) -> None:
    """Attach each unique constraint to its rebuilt index; ``quietly`` logs each failure and
    goes on to the next (a failed load restores what it can)."""
    with connection.cursor() as cursor:
        for rebuild in rebuilds:
            if not rebuild.attach:
                continue
            try:
                cursor.execute(rebuild.attach)
            except Exception as error:
                if not quietly:
                    raise
                log(f"bulk: could not restore {rebuild.attach!r}: {error!r}")
