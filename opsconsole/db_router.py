"""Send reads of the reports app to the replica when one is configured.

A replica lags the primary. The pages and the API can read a little behind, but work that
writes what it read must not: the snapshot writer (``reports.services``) computes the rows
it writes, and gates evaluates its stop rules on them straight after. That work runs inside
:func:`primary_reads`, and every read in it, routed or named through ``reports_db()``, goes to
the primary. The switch is a context variable, so it holds for the thread (or task) that set
it and for nothing else running beside it.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.db import DEFAULT_DB_ALIAS, connections

REPLICA_ALIAS = "replica"
REPLICA_READ_APPS = {"reports"}

_primary_only: ContextVar[bool] = ContextVar("opsconsole_primary_reads", default=False)


@contextmanager
def primary_reads() -> Iterator[None]:
    """Within this block, reads that would go to the replica go to the primary."""
    token = _primary_only.set(True)
    try:
        yield
    finally:
        _primary_only.reset(token)


def replica_configured() -> bool:
    return REPLICA_ALIAS in connections.settings


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label not in REPLICA_READ_APPS or not replica_configured():
            return None
        return DEFAULT_DB_ALIAS if _primary_only.get() else REPLICA_ALIAS

    def db_for_write(self, model, **hints):
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == DEFAULT_DB_ALIAS
