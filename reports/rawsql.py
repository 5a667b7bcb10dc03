"""Raw SQL the constraint panels share: one statement per panel, set-based, written once for
PostgreSQL and for the embedded SQLite of ``make run``.

The statements use only what both speak (CTEs, ``CASE``, ``MIN``/``MAX``, ``COUNT(DISTINCT)``,
``UNION ALL``); the few differences are functions here: the larger of several values, the hours
between two times, and how a time comes back. Percentiles are PostgreSQL's
``percentile_cont``; on SQLite the values are read and ``routing.rules.percentile``
interpolates them the same way (as ``reports.metrics.sql`` does).

Constants from code (event types, action names, user prefixes) are written into the SQL as
quoted literals; values from a request (dates, a channel) always travel as parameters, inside
the compiled SQL of a queryset.
"""

from datetime import UTC, datetime

from django.db import connections
from django.db.models import QuerySet
from django.utils.dateparse import parse_datetime

from opsconsole.history import SERVICE_USER_PREFIX, SYSTEM_USER_PREFIX
from opsconsole.models import ServiceToken


def literal(value: str) -> str:
    """A string constant from code as an SQL literal (``%`` doubled for the driver's format)."""
    return "'" + str(value).replace("'", "''").replace("%", "%%") + "'"


def literals(values) -> str:
    return ", ".join(literal(v) for v in values)


def compiled(qs: QuerySet) -> tuple[str, list]:
    """A queryset's SQL and parameters, for the database it reads from."""
    sql, params = qs.query.get_compiler(using=qs.db).as_sql()
    return sql, list(params)


def vendor(using: str) -> str:
    return connections[using].vendor


def is_person_sql(user: str) -> str:
    """``reports.facts.person_q`` over the user table aliased ``user``: not a system or
    service user, and not the user of a service token."""
    token = ServiceToken._meta
    prefix = lambda p: literal(p + "%")  # noqa: E731
    return (
        f"({user}.username NOT LIKE {prefix(SYSTEM_USER_PREFIX)} "
        f"AND {user}.username NOT LIKE {prefix(SERVICE_USER_PREFIX)} "
        f"AND NOT EXISTS (SELECT 1 FROM {token.db_table} st "
        f"WHERE st.{token.get_field('user').column} = {user}.id))"
    )


def greatest(using: str, *expressions: str) -> str:
    """The largest of non-null expressions (PostgreSQL's GREATEST, SQLite's scalar max)."""
    name = "GREATEST" if vendor(using) == "postgresql" else "MAX"
    return f"{name}({', '.join(expressions)})"


def least_present(*expressions: str) -> str:
    """The smallest of expressions that may be null, ignoring the nulls (null when all are)."""
    found = expressions[0]
    for other in expressions[1:]:
        found = f"(CASE WHEN {found} IS NULL OR {other} < {found} THEN {other} ELSE {found} END)"
    return found


def hours_between(using: str, later: str, earlier: str) -> str:
    """``later - earlier`` in hours as a double. On PostgreSQL the exact seconds divided by
    3600 in floating point, as Python's ``timedelta.total_seconds() / 3600``."""
    if vendor(using) == "postgresql":
        return f"(CAST(EXTRACT(EPOCH FROM ({later} - {earlier})) AS double precision) / 3600)"
    return f"((julianday({later}) - julianday({earlier})) * 24.0)"


def as_datetime(value) -> datetime | None:
    """A time as a raw statement returns it: an aware datetime (PostgreSQL) or SQLite's text
    of a UTC time."""
    if value is None:
        return None
    found = value if isinstance(value, datetime) else parse_datetime(value)
    return found if found.tzinfo is not None else found.replace(tzinfo=UTC)


def rows(using: str, sql: str, params: list) -> list[dict]:
    with connections[using].cursor() as cursor:
        cursor.execute(sql, params)
        names = [column[0] for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
