"""What the console's changelists need to stay fast on millions of rows, beyond the paginator
(``opsconsole.adminkit.ScaleAdminMixin`` wires it in):

- ``date_hierarchy`` without a scan: Django lists the years, months or days that hold rows
  with ``SELECT DISTINCT date_trunc(...)`` over the whole list. Here the bounds come from
  ``MIN``/``MAX`` (an index on the field answers them) and each candidate period is one
  ``LIMIT 1`` probe of that index, all in one ``UNION ALL``: two statements in all.
- the values of a plain field's list filter without a scan: Django's ``AllValuesFieldListFilter``
  runs ``SELECT DISTINCT field``; ``IndexedValuesListFilter`` walks the index that leads with
  the field (a "loose index scan": one probe per distinct value).
"""

from datetime import datetime, timedelta

from django.contrib.admin.filters import AllValuesFieldListFilter
from django.contrib.admin.views.main import ChangeList
from django.db import connections
from django.db.models import IntegerField, Max, Min, QuerySet, Value
from django.utils import timezone


def _periods(first: datetime, last: datetime, kind: str):
    """The starts of every year, month or day from ``first`` to ``last`` (same time zone)."""
    if kind == "year":
        start = first.replace(month=1, day=1, hour=0, minute=0, second=0, microsecond=0)
    elif kind == "month":
        start = first.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    else:
        start = first.replace(hour=0, minute=0, second=0, microsecond=0)
    while start <= last:
        if kind == "year":
            end = start.replace(year=start.year + 1)
        elif kind == "month":
            end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        else:
            end = start + timedelta(days=1)  # wall-clock: same tzinfo
        yield start, end
        start = end


class ProbedDatesQuerySet(QuerySet):
    """``datetimes()`` and ``dates()`` by index probes rather than DISTINCT over every row."""

    def datetimes(self, field_name, kind, order="ASC", tzinfo=None):
        if (
            kind not in ("year", "month", "day")
            or not connections[self.db].features.supports_slicing_ordering_in_compound
        ):
            # SQLite (make run) cannot UNION limited probes; its demo lists are small anyway.
            return super().datetimes(field_name, kind, order, tzinfo)
        tz = tzinfo or timezone.get_current_timezone()
        bounds = self.order_by().aggregate(first=Min(field_name), last=Max(field_name))
        if bounds["first"] is None:
            return []
        first, last = (bounds[k].astimezone(tz) for k in ("first", "last"))
        periods = list(_periods(first, last, kind))
        # One statement: a UNION ALL of one LIMIT 1 probe per period.
        probes = [
            self.filter(**{f"{field_name}__gte": start, f"{field_name}__lt": end})
            .order_by()
            .annotate(period=Value(n, output_field=IntegerField()))
            .values_list("period", flat=True)[:1]
            for n, (start, end) in enumerate(periods)
        ]
        held = set(probes[0].union(*probes[1:], all=True)) if len(probes) > 1 else set(probes[0])
        found = [start for n, (start, _) in enumerate(periods) if n in held]
        return found if order == "ASC" else found[::-1]

    def dates(self, field_name, kind, order="ASC"):
        if kind not in ("year", "month", "day"):
            return super().dates(field_name, kind, order)
        field = self.model._meta.get_field(field_name)
        if field.get_internal_type() == "DateTimeField":
            return [d.date() for d in self.datetimes(field_name, kind, order)]
        return super().dates(field_name, kind, order)


_PROBED_CLASSES: dict[type, type] = {}


def probed_dates(qs: QuerySet) -> QuerySet:
    """``qs`` whose ``dates()`` and ``datetimes()`` probe instead of scanning."""
    cls = type(qs)
    if cls not in _PROBED_CLASSES:
        _PROBED_CLASSES[cls] = type(f"Probed{cls.__name__}", (ProbedDatesQuerySet, cls), {})
    clone = qs._chain()
    clone.__class__ = _PROBED_CLASSES[cls]
    return clone


def leading_index_exists(model, column: str) -> bool:
    """Whether some index of ``model``'s table starts with ``column`` (PostgreSQL)."""
    with connections[model._default_manager.db].cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = i.indkey[0] WHERE i.indrelid = %s::regclass AND a.attname = %s LIMIT 1",
            [model._meta.db_table, column],
        )
        return cursor.fetchone() is not None


def distinct_by_index(model, column: str) -> list:
    """The distinct non-null values of ``column``, one index probe each (a loose index scan)."""
    table = connections[model._default_manager.db].ops.quote_name(model._meta.db_table)
    col = connections[model._default_manager.db].ops.quote_name(column)
    with connections[model._default_manager.db].cursor() as cursor:
        cursor.execute(
            f"WITH RECURSIVE v AS (SELECT min({col}) AS x FROM {table} UNION ALL "
            f"SELECT (SELECT min({col}) FROM {table} WHERE {col} > v.x) FROM v WHERE v.x IS NOT NULL) "
            "SELECT x FROM v WHERE x IS NOT NULL"
        )
        return [row[0] for row in cursor.fetchall()]


class IndexedValuesListFilter(AllValuesFieldListFilter):
    """``AllValuesFieldListFilter`` whose values come from the field's index, not a DISTINCT
    over every row. The values are those of the whole table (what the filter offers), which
    for the fields it is used on (types, codes) is vocabulary, not data."""

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        self.lookup_choices = distinct_by_index(model, field.column)


def scaled_list_filter(model, list_filter) -> list:
    """``list_filter`` with each plain field that an index leads with given
    ``IndexedValuesListFilter`` (on PostgreSQL; elsewhere unchanged)."""
    if connections[model._default_manager.db].vendor != "postgresql":
        return list(list_filter)
    result = []
    for item in list_filter:
        if isinstance(item, str) and "__" not in item:
            field = model._meta.get_field(item)
            if not field.is_relation and not field.choices and leading_index_exists(model, field.column):
                item = (item, IndexedValuesListFilter)
        result.append(item)
    return result


class ScaledChangeList(ChangeList):
    """A changelist whose date hierarchy probes (``probed_dates``)."""

    def get_queryset(self, request, exclude_parameters=None):
        return probed_dates(super().get_queryset(request, exclude_parameters))
