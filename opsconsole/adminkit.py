"""Building blocks every console admin page shares: read-only audit pages, history without
revert, service calls that turn refusals into messages, and status badges."""

import json
import re

from django.apps import apps
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connections, models
from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.dateparse import parse_datetime
from django.utils.functional import cached_property
from django.utils.html import format_html, format_html_join
from django.utils.text import smart_split, unescape_string_literal
from simple_history.admin import SimpleHistoryAdmin

from opsconsole import list_filters
from opsconsole.adminscale import ScaledChangeList, scaled_list_filter
from opsconsole.errors import ApplicationError
from opsconsole.formatting import human_time

# Tones map to the colours in opsconsole/static/opsconsole/console.css.
TONES = ("ok", "warn", "bad", "info", "muted")


def badge(text: str, tone: str = "muted"):
    """A coloured pill; the admin uses it for every status so one colour means one thing."""
    if tone not in TONES:
        tone = "muted"
    return format_html('<span class="oc-badge oc-badge-{}">{}</span>', tone, text)


def facts_table(value):
    """A JSON object as a two-column table (nested values as compact JSON), so a person reads
    ``plan  business`` rather than a Python dict; anything else as formatted JSON."""
    if value in (None, "", {}, []):
        return "—"
    if not isinstance(value, dict):
        return format_html("<pre>{}</pre>", json.dumps(value, indent=2, cls=DjangoJSONEncoder))
    rows = [(key, fact_value(item)) for key, item in value.items()]
    return format_html(
        '<table class="oc-facts">{}</table>', format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows)
    )


# Nested values longer than this fold away behind their first characters.
FOLD_AFTER = 120


# An ISO 8601 moment kept as text in JSON (evidence, a context): shown as the house format.
_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}")


def _moment(text: str):
    try:
        return parse_datetime(text)
    except ValueError:  # well formed, but no such moment
        return None


def fact_value(item):
    """One value for a table cell: text as it is (an ISO moment in the house format),
    structures as JSON, long ones folded."""
    if item is None:
        return "—"
    if isinstance(item, str):
        moment = _moment(item) if _ISO_MOMENT.match(item) else None
        return human_time(moment) if moment else item
    text = json.dumps(item, cls=DjangoJSONEncoder)
    if len(text) <= FOLD_AFTER:
        return text
    return json_details(item, f"{text[:FOLD_AFTER]}…")


def facts_list(value):
    """A JSON object as a definition list (evidence, a context): each key a term, its value as
    ``fact_value`` shows it; "—" for nothing."""
    if value in (None, "", {}, []):
        return "—"
    if not isinstance(value, dict):
        return fact_value(value)
    rows = [(str(key).replace("_", " ").capitalize(), fact_value(item)) for key, item in value.items()]
    return format_html('<dl class="oc-dl">{}</dl>', format_html_join("", "<dt>{}</dt><dd>{}</dd>", rows))


def person_facing_fields(change: dict) -> list[dict]:
    """A recorded change's fields as a person reviews them: without the row links and
    bookkeeping ids (``account_id``, ``recorded_by_id``, an intake's UUID) that only the
    database reads. The run keeps every field; this is what a preview or a run page shows."""
    try:
        model = apps.get_model(change["model"])
    except (LookupError, ValueError):
        return change["fields"]
    internal = {
        f.attname for f in model._meta.concrete_fields if f.is_relation or isinstance(f, models.UUIDField)
    }
    return [f for f in change["fields"] if f["field"] not in internal]


def rows_table(headers: tuple[str, ...], rows: list[tuple]):
    """A plain table with a header row; "—" when there is nothing to show."""
    if not rows:
        return "—"
    cells = "".join("<td>{}</td>" for _ in headers)
    return format_html(
        "<table><tr>{}</tr>{}</table>",
        format_html_join("", "<th>{}</th>", ((h,) for h in headers)),
        format_html_join("", f"<tr>{cells}</tr>", rows),
    )


def json_details(value, summary: str):
    """Long JSON folded away: the summary shows, the document opens on a click."""
    if value in (None, "", {}, []):
        return "—"
    return format_html(
        "<details><summary>{}</summary><pre>{}</pre></details>",
        summary,
        json.dumps(value, indent=2, sort_keys=True, cls=DjangoJSONEncoder),
    )


class EstimatedCountPaginator(Paginator):
    """A paginator that never counts a big table: below ``EXACT_BELOW`` rows (as the planner
    estimates them) it counts exactly, and only up to that many (``LIMIT``); above, the count
    is the planner's estimate (``EXPLAIN``, from ``pg_class.reltuples`` and the statistics),
    so the first page of a million rows costs the page, not a scan. Elsewhere (SQLite) it
    counts as Django does. Use it with ``show_full_result_count = False`` (``ScaleAdminMixin``).
    """

    EXACT_BELOW = 10_000

    @cached_property
    def count(self) -> int:
        qs = self.object_list
        if not isinstance(qs, QuerySet) or connections[qs.db].vendor != "postgresql":
            return super().count
        estimate = planner_rows(qs)
        if estimate >= self.EXACT_BELOW:
            return estimate
        exact = qs[: self.EXACT_BELOW + 1].count()
        return exact if exact <= self.EXACT_BELOW else max(estimate, exact)


def planner_rows(qs: QuerySet) -> int:
    """How many rows PostgreSQL's planner expects ``qs`` to return (no rows are read)."""
    try:
        sql, params = qs.order_by().values("pk").query.sql_with_params()
    except EmptyResultSet:  # a filter nothing can match (``pk__in=[]``)
        return 0
    with connections[qs.db].cursor() as cursor:
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        (plan,) = cursor.fetchone()
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


_SEARCH_PREFIXES = {"^": "istartswith", "=": "iexact", "@": "search"}
_LOOKUPS = ("exact", "iexact", "startswith", "istartswith", "contains", "icontains", "search")


def search_lookup(field: str) -> str:
    """A ``search_fields`` entry as a lookup, as the admin reads it (``^name`` is a prefix)."""
    if field[:1] in _SEARCH_PREFIXES:
        return f"{field[1:]}__{_SEARCH_PREFIXES[field[:1]]}"
    if field.rsplit("__", 1)[-1] in _LOOKUPS:
        return field
    return f"{field}__icontains"


class ScaleAdminMixin:
    """Changelists that stay fast on millions of rows: no full ``COUNT(*)`` (the estimated
    count above, and no second count of the unfiltered table), and searches each field of
    which an index can answer (``search_fields`` say how: ``external_id__startswith``).

    Django ORs every search field in one WHERE; once a field is on a related table
    (``account__external_id``) that OR spans a join and no index serves it. On PostgreSQL a
    related field is matched first on its own table (its index), and the row keys it gives
    join the OR as a list (``account_id IN (...)``), which the planner can combine with the
    indexes of the row's own fields or filter an ordered scan with."""

    paginator = EstimatedCountPaginator
    show_full_result_count = False
    RELATED_KEYS = 1000
    SEARCH_KEYS = 5000

    def get_search_results(self, request, queryset, search_term):
        fields = self.get_search_fields(request)
        if not search_term or not fields or connections[queryset.db].vendor != "postgresql":
            return super().get_search_results(request, queryset, search_term)
        lookups = [search_lookup(f) for f in fields]
        base = self.model._default_manager.db_manager(queryset.db).order_by()
        wanted = Q()
        for bit in smart_split(search_term):
            if bit[:1] in ('"', "'") and bit[-1:] == bit[:1]:
                bit = unescape_string_literal(bit)
            matches = Q()
            for lookup in lookups:
                first, rest = lookup.split("__", 1)
                field = self.model._meta.get_field(first)
                if not field.is_relation:
                    matches |= Q(**{lookup: bit})
                    continue
                # The related rows first (their own index), then the keys as a list the
                # planner can OR with the other indexes; a subquery past RELATED_KEYS.
                related = field.related_model._default_manager.db_manager(queryset.db).filter(**{rest: bit})
                if planner_rows(base) < planner_rows(
                    related.model._default_manager.db_manager(queryset.db).all()
                ):
                    # A list smaller than the table it points to (billing drifts, overrides):
                    # only the related rows it names, or a contains match reads them all.
                    related = related.filter(pk__in=base.values(first))
                keys = list(related.values_list("pk", flat=True)[: self.RELATED_KEYS + 1])
                if len(keys) > self.RELATED_KEYS:
                    keys = related.values("pk")
                matches |= Q(**{f"{first}__in": keys})
            wanted &= matches
        # The matching keys first, unordered: the planner ORs the indexes. Ordered and
        # limited to a page, it would walk the list's order index hoping to meet matches
        # soon, through every row when they are rare. Many matches: the ordered walk is right.
        keys = list(base.filter(wanted).values_list("pk", flat=True)[: self.SEARCH_KEYS + 1])
        if len(keys) <= self.SEARCH_KEYS:
            return queryset.filter(pk__in=keys), False
        return queryset.filter(wanted), False

    def get_changelist(self, request, **kwargs):
        return ScaledChangeList

    def get_list_filter(self, request):
        return scaled_list_filter(self.model, super().get_list_filter(request))


class RestrictedAdminMixin:
    """Lists, detail pages and search start from ``Model.objects.restrict(user)``: the admin's
    view permission opens the page, and the model's rule says which rows it shows."""

    def get_queryset(self, request):
        return super().get_queryset(request).restrict(request.user)


class ReadOnlyAdminMixin(ScaleAdminMixin):
    """For audit rows and timelines: anyone with the view permission reads, nobody writes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(ScaleAdminMixin, SimpleHistoryAdmin):
    """simple-history's pages, without "revert": a revert would write the model directly and
    skip the services (and their checks) that own every change."""

    def revert_disabled(self, request, obj=None):
        return True

    def get_list_filter(self, request):
        # Filters higher layers registered for this list (opsconsole.list_filters) come last.
        return (*super().get_list_filter(request), *list_filters.registered(self.model._meta.label_lower))

    def history_visible(self, request, object_id) -> bool:
        """Whether this user may read the history of ``object_id``: the row is in their
        restricted queryset, or it is gone and they hold the model's view permission.
        (simple-history would otherwise show the last historical copy of any row it cannot find
        in the queryset, so a row outside someone's grants would leak through its history.)"""
        pk = unquote(object_id)
        try:
            if self.get_queryset(request).filter(pk=pk).exists():
                return True
            if self.model._default_manager.filter(pk=pk).exists():
                return False
        except (ValueError, TypeError, ValidationError):
            return False
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.view_{opts.model_name}")

    def history_view(self, request, object_id, extra_context=None):
        if not self.history_visible(request, object_id):
            raise Http404("No such record, or not one you may see.")
        return super().history_view(request, object_id, extra_context)

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history saves a POSTed revert even when the button is hidden; refuse it here.
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        if not self.history_visible(request, object_id):
            raise Http404("No such record, or not one you may see.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceCallAdminMixin:
    """Run a service for a request and show a refusal as a message instead of a 500."""

    def call_service(self, request, fn, /, **kwargs):
        try:
            return fn(actor=request.user, **kwargs)
        except ApplicationError as exc:
            request._service_refused = True
            self.message_user(request, exc.message, messages.ERROR)
            return None

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # After a refusal, Django would still announce "changed successfully"; don't.
        if getattr(request, "_service_refused", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, level, *args, **kwargs)


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    pass


OPEN_WORK = "open_work"
ALL = "all"


def open_first_status_filter(
    open_statuses, choices, *, field: str = "status", title: str = "status", open_label: str = "Open"
):
    """A status filter for a work list that opens on the open work: with no choice in the URL
    it shows the rows in ``open_statuses`` (one choice, ``open_label``, or that one status
    when there is only one); "All" shows every row, and each status is a choice. ``choices``
    are the field's (value, label) pairs."""
    open_values = [str(value) for value in open_statuses]
    default = open_values[0] if len(open_values) == 1 else OPEN_WORK
    lookups = list(choices) if default != OPEN_WORK else [(OPEN_WORK, open_label), *choices]
    lookups = [(value, f"{label} (default)" if str(value) == default else label) for value, label in lookups]

    class OpenFirstStatusFilter(admin.SimpleListFilter):
        parameter_name = field

        def lookups(self, request, model_admin):
            return [*lookups, (ALL, "All")]

        def choices(self, changelist):
            current = self.value() or default
            for value, label in self.lookup_choices:
                yield {
                    "selected": current == str(value),
                    "query_string": changelist.get_query_string({self.parameter_name: value}),
                    "display": label,
                }

        def queryset(self, request, queryset):
            current = self.value() or default
            if current == ALL:
                return queryset
            if current == OPEN_WORK:
                return queryset.filter(**{f"{field}__in": open_values})
            return queryset.filter(**{field: current})

    OpenFirstStatusFilter.title = title
    return OpenFirstStatusFilter
