"""The constraint panels bench's work (``python -m bench.constraints_panels`` sets Django up
and calls ``run``)."""

from datetime import timedelta

from django.db import DatabaseError, connection
from django.utils import timezone

from accounts.choices import ChannelKind
from accounts.models import Account, Channel
from bench.reports_run import ensure_data
from reports import rawsql
from reports.constraints.selectors import ranked_constraints
from reports.costs.selectors import channel_costs
from reports.drag.selectors import operational_drag
from reports.failures.selectors import channel_failures, leader_sentences
from reports.funnel.journey import STEP_EVENTS
from reports.funnel.selectors import journeys, step_funnel
from reports.quality.selectors import quality_panel
from reports.refunds.selectors import billing_issues
from reports.scope import cohort
from reports.timelines.selectors import example_timelines, gate_timeline


def _count(sql: str, params: list) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def _cohort_count(window: dict, channel: str | None) -> int:
    sql, params = rawsql.compiled(cohort(**window, channel=channel).order_by().values("pk"))
    return _count(f"SELECT count(*) FROM ({sql}) a", params)


def _event_count(window: dict) -> int:
    sql, params = rawsql.compiled(cohort(**window).order_by().values("pk"))
    types = rawsql.literals(t for ts in STEP_EVENTS.values() for t in ts)
    return _count(
        f"SELECT count(*) FROM accounts_accountevent e WHERE e.account_id IN ({sql}) AND e.type IN ({types})",
        params,
    )


def _timelines(channel: str, window: dict) -> int:
    picked = [pk for pk in example_timelines(channel=channel, **window).values() if pk]
    rows = 0
    for account in Account.objects.filter(pk__in=picked):
        (journey,) = journeys(Account.objects.filter(pk=account.pk))
        rows += len(gate_timeline(account, first_staff_touch=journey.touch))
    return rows


def _line(label: str, seconds: float, floor: float, extra: str = "") -> str:
    flag = "" if seconds < 1 else "   OVER 1 s"
    return (
        f"  {label:<46} {seconds * 1000:>8.0f} ms   baseline {floor * 1000:>7.0f} ms   "
        f"ratio {seconds / floor:>7.1f}{extra}{flag}"
    )


def run(args, *, timed) -> int:
    if connection.vendor != "postgresql":
        print("bench.constraints_panels needs PostgreSQL")
        return 2
    if args.accounts:
        ensure_data(args.accounts, args.load_days)
    today = timezone.now().date()
    window = {"since": today - timedelta(days=args.days - 1), "until": today + timedelta(days=1)}
    channel = args.channel or (
        Channel.objects.filter(kind=ChannelKind.PARTNER)
        .order_by("code")
        .values_list("code", flat=True)
        .first()
    )
    if not channel:
        print("no partner channel: name one with --channel")
        return 2
    total = Account.objects.count()
    every_s, signups = timed(lambda: _cohort_count(window, None), args.repeat)
    one_s, channel_signups = timed(lambda: _cohort_count(window, channel), args.repeat)
    events_s, events = timed(lambda: _event_count(window), args.repeat)
    print(
        f"constraint panels, {window['since']} to {window['until']} ({args.days} days), "
        f"{total:,} accounts in the database, median of {args.repeat}"
    )
    print(
        f"  baseline: count(*) of the cohort, every channel ({signups:,} accounts)  {every_s * 1000:.0f} ms"
    )
    print(f"  baseline: count(*) of the cohort of {channel} ({channel_signups:,})  {one_s * 1000:.0f} ms")
    print(f"  baseline: count(*) of the cohort's journey events ({events:,})  {events_s * 1000:.0f} ms")
    panels = [
        ("failure reasons of " + channel, lambda: channel_failures(channel=channel, **window), one_s),
        (
            "ranked constraints (+ sentences)",
            lambda: leader_sentences(ranked_constraints(**window)),
            every_s,
        ),
        (
            "data quality (checks + per day)",
            lambda: quality_panel(**window),
            every_s,
        ),
        ("cost model", lambda: channel_costs(**window), every_s),
        ("refunds and disputes", lambda: billing_issues(**window), every_s),
        ("step-gap funnel", lambda: step_funnel(**window), every_s),
        ("operational drag", lambda: operational_drag(**window), every_s),
        (
            "three example timelines of " + channel,
            lambda: example_timelines(channel=channel, **window),
            one_s,
        ),
        ("  their three timelines' rows", lambda: _timelines(channel, window), one_s),
    ]
    over = []
    with connection.cursor() as cursor:  # a panel that runs away is reported, not waited for
        cursor.execute(f"SET statement_timeout = {max(1, round(args.timeout * 1000))}")  # ms; 0 is none
    for label, fn, floor in panels:
        try:
            seconds, result = timed(fn, args.repeat)
        except DatabaseError as exc:
            print(f"  {label:<46} stopped after {args.timeout:.0f} s: {str(exc).splitlines()[0]}", flush=True)
            over.append(label)
            continue
        extra = f"   vs events {seconds / events_s:.1f}" if label == "step-gap funnel" else ""
        print(_line(label, seconds, floor, extra), flush=True)
        if label == "step-gap funnel" and result[0].reached != signups:
            print(f"  the funnel's created step has {result[0].reached:,} accounts, the cohort {signups:,}")
            return 1
        if seconds >= 1:
            over.append(label)
    print(f"panels over 1 s: {', '.join(over) if over else 'none'}")
    return 0
