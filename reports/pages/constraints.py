"""The index, failure reasons, the ranked constraint list, the data-quality panel and the
rows behind every number."""

from django.http import Http404

from opsconsole.links import admin_url
from reports.constraints import rules
from reports.constraints.selectors import ranked_constraints
from reports.failures.selectors import channel_failures, leader_sentence, leader_sentences
from reports.pages.common import Cell, Table, guarded, render, scope_of
from reports.quality.selectors import CHECKS, quality_day_url, quality_panel
from reports.rowlists import restricted, row_list
from reports.scope import bounds, channel_named
from reports.timelines.selectors import example_timelines

SHOWN_ROWS = 500

PAGES = (
    (
        "admin:reports_constraints_failures",
        "Failure reasons per channel",
        "Top reasons, time cost, the sentence.",
    ),
    (
        "admin:reports_constraints_ranked",
        "Ranked constraint list",
        "Reason codes by cost, with owner and fix.",
    ),
    ("admin:reports_constraints_quality", "Data quality", "Checks per day, over threshold, with rows."),
    ("admin:reports_constraints_costs", "Cost model", "Cost per signup and per activated account."),
    ("admin:reports_constraints_funnel", "Step-gap funnel", "Journey steps, gaps, first staff touch."),
    ("admin:reports_constraints_drag", "Operational drag", "Failed jobs, retries, manual interventions."),
    ("admin:reports_constraints_billing", "Refunds, disputes, billing tickets", "By channel, priced."),
)


@guarded
def index_view(request):
    scope = scope_of(request)
    pages = [(admin_url(name), label, text) for name, label, text in PAGES]
    return render(
        request,
        title="Constraints",
        scope=scope,
        tables=[],
        template="reports/constraints/index.html",
        pages=[page for page in pages if page[0]],
    )


def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _minutes(value) -> str:
    return "—" if value is None else f"{value:g}"


@guarded
def failures_view(request):
    scope = scope_of(request, channel_required=True)
    panel = (
        channel_failures(channel=scope.channel, since=scope.since, until=scope.until)
        if scope.channel
        else None
    )
    table = Table(
        "failures",
        "Top 5 reason codes",
        [
            "Reason",
            "Accounts hit",
            "Share of signups",
            "Estimated min",
            "Measured min",
            "Time cost (min)",
            "Owner",
            "Fix",
            "Sentence",
        ],
    )
    examples = {}
    if panel:
        for row, sentence in panel["rows"]:
            table.rows.append(
                [
                    row.reason_code,
                    Cell(row.accounts_hit, row.accounts_url),
                    _pct(row.share),
                    _minutes(row.estimated_minutes),
                    _minutes(row.measured_minutes),
                    f"{row.time_cost_minutes:g}",
                    row.owner_team,
                    row.fix,
                    sentence,
                ]
            )
        examples = example_timelines(channel=scope.channel, since=scope.since, until=scope.until)
    return render(
        request,
        title="Failure reasons per channel",
        scope=scope,
        tables=[table],
        template="reports/constraints/failures.html",
        panel=panel,
        examples=examples,
    )


@guarded
def ranked_view(request):
    scope = scope_of(request)
    rows = ranked_constraints(since=scope.since, until=scope.until, channel=scope.channel)
    table = Table(
        "constraints",
        "Ranked constraints",
        [
            "Rank",
            "Reason",
            "Label",
            "Accounts hit",
            "Share",
            "Handling min",
            "Measured min",
            "Owner",
            "Blocking accounts",
            "Risk weight",
            "Cost",
            "Likely fix",
            "What a leader would say",
        ],
        note=rules.formula_text(),
    )
    if scope.channel:
        name = channel_named(scope.channel).name
        sentences = {row.reason_code: leader_sentence(row, channel_name=name) for row in rows}
    else:
        sentences = leader_sentences(rows)
    for rank, row in enumerate(rows, 1):
        table.rows.append(
            [
                rank,
                row.reason_code,
                row.label,
                Cell(row.accounts_hit, row.accounts_url),
                _pct(row.share),
                _minutes(row.handling_minutes),
                _minutes(row.measured_minutes),
                row.owner_team,
                row.blocking_accounts,
                f"{row.risk_weight:.2f}",
                f"{row.cost:,.0f}",
                Cell(row.fix, tone="warn" if row.runbook is None else ""),
                sentences.get(row.reason_code, ""),
            ]
        )
    return render(request, title="Ranked constraint list", scope=scope, tables=[table])


@guarded
def quality_view(request):
    scope = scope_of(request)
    checks, per_day = quality_panel(since=scope.since, until=scope.until, channel=scope.channel)
    summary = Table("quality", "Data-quality checks", ["Check", "Count", "Threshold", "Over threshold"])
    for check in checks:
        summary.rows.append(
            [
                check.label,
                Cell(check.count, check.rows_url, "bad" if check.over_threshold else ""),
                check.threshold,
                Cell("over" if check.over_threshold else "ok", tone="bad" if check.over_threshold else "ok"),
            ]
        )
    days = sorted({d for counts in per_day.values() for d in counts})
    by_day = Table("quality_by_day", "Per day", ["Day", *[c.label for c in CHECKS]])
    for day in days:
        cells = []
        for check in CHECKS:
            count = per_day.get(check.code, {}).get(day, 0)
            url = quality_day_url(check.code, **scope.as_params(), day=day) if count else ""
            cells.append(Cell(count, url))
        by_day.rows.append([day.isoformat(), *cells])
    return render(request, title="Data quality", scope=scope, tables=[summary, by_day])


@guarded
def rows_view(request):
    """The rows behind a number: ``?list=<code>`` and that list's parameters."""
    found = row_list(request.GET.get("list", ""))
    if found is None:
        raise Http404("No such list.")
    scope = scope_of(request)
    bounds(scope.since, scope.until)
    qs = restricted(found.rows(request.GET), request.user)
    paths = [path for _, path in found.columns]
    table = Table("rows", found.title, [header for header, _ in found.columns])
    total = qs.count()
    rows = qs.order_by("pk").values_list(*paths)
    if not request.GET.get("csv"):
        rows = rows[:SHOWN_ROWS]  # the page shows the first ones; the CSV streams them all
    for values in rows.iterator(chunk_size=2000):
        table.rows.append(list(values))
    return render(
        request,
        title=found.title,
        scope=scope,
        tables=[table],
        template="reports/constraints/rows.html",
        total=total,
        shown=min(total, SHOWN_ROWS),
        list_code=found.code,
        extra_query=request.GET.urlencode(),
    )
