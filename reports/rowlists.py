"""The rows behind a number: every count on the constraint pages links to one list.

A list is declared once, by a code, with the query that gives its rows. The panel counts the
same query (``count_of``), so the list behind a number always has as many rows as the number
says (for a user who may see every row: lists are restricted, ``restricted``). A panel links
to it with ``rows_url(code, **params)``; ``admin:reports_constraints_rows`` renders it and
``..._rows_csv`` streams it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlencode

from django.db.models import QuerySet

from opsconsole.links import admin_url

ROWS_VIEW = "admin:reports_constraints_rows"


@dataclass(frozen=True)
class RowList:
    code: str
    title: str
    # (header, value path) pairs; the first path is the row's primary key, for its link.
    columns: tuple[tuple[str, str], ...]
    # rows(params) -> QuerySet; params are the query string's values (strings).
    rows: Callable[[dict], QuerySet]


_LISTS: dict[str, RowList] = {}


def register_list(code: str, title: str, columns, rows) -> RowList:
    row_list = _LISTS[code] = RowList(code, title, tuple(columns), rows)
    return row_list


def row_list(code: str) -> RowList | None:
    return _LISTS.get(code)


def all_lists() -> list[str]:
    return sorted(_LISTS)


def _text(value) -> str:
    return value.isoformat() if isinstance(value, date) else str(value)


def rows_url(code: str, **params) -> str:
    """The console address of list ``code`` with ``params`` (None and "" left out)."""
    if code not in _LISTS:
        raise LookupError(f"No row list {code!r}.")
    base = admin_url(ROWS_VIEW)
    if not base:
        return ""
    query = {"list": code, **{k: _text(v) for k, v in params.items() if v not in (None, "")}}
    return f"{base}?{urlencode(query)}"


def restricted(qs: QuerySet, user) -> QuerySet:
    """``qs`` as ``user`` may see it: ``restrict`` where the model has one, else the model's
    view permission decides all or nothing."""
    if hasattr(qs, "restrict"):
        return qs.restrict(user, "view")
    meta = qs.model._meta
    if user is not None and user.is_active and user.has_perm(f"{meta.app_label}.view_{meta.model_name}"):
        return qs
    return qs.none()
