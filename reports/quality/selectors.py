"""The data-quality panel: six checks, each a query for its rows, counted over a range and per
day. A check's count is its rows' count, so the list behind a number has as many rows.
Thresholds are the setting ``REPORTS_QUALITY_THRESHOLDS``; a check over its threshold is
flagged (gates' observability check reads ``quality_checks``).

- ``no_channel_source``: cohort accounts (signed up in the range, not duplicates) of the
  ``unattributed`` channel, or of a paid or partner channel with no ``utm_source``;
- ``unmatched_events``: product events the intake refused because their account matches no
  account (``accounts.RejectedEvent``), by the day received. They have no account, so no
  channel: a channel's panel shows every one of them;
- ``events_before_signup``: product events of cohort accounts dated before the account's signup;
- ``late_events``: product events that occurred in the range and were recorded more than
  ``REPORTS_LATE_EVENT_HOURS`` after they occurred (the events opsconsole writes itself, such
  as ``account.created`` of a backfilled signup, are not the product's lateness);
  both are decided once, when the event is recorded, and stored on it (``before_signup``,
  ``late``: ``accounts/eventflags.py`` says why that stays exact), so these two checks read only
  the flagged rows through partial indexes;
- ``duplicate_workspaces``: cohort-range accounts marked duplicate, and candidates: an account
  not marked that shares its name (case aside) and admin email domain with another unmarked
  account of a lower id (the first of them is not a candidate; ``accounts.namesakes``), both
  read from flags stored on the account's facts;
- ``unmatched_billing``: Stripe customers no account claims (reconciliation's
  ``unmatched_billing_record`` drift), by the day it was found; no channel, like unmatched events.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncDate

from accounts.choices import ChannelKind, DriftKind
from accounts.eventflags import late_flags_current, late_q
from accounts.models import UNATTRIBUTED_CHANNEL, Account, AccountEvent, BillingDrift, Channel
from accounts.rejections import RejectedEvent, RejectionReason
from reports.metrics.sql import day_start
from reports.models import AccountFacts
from reports.query import query_date
from reports.rowlists import register_list, rows_url
from reports.scope import bounds, channel_named

# Channels whose signups must carry a utm_source.
SOURCED_KINDS = (ChannelKind.PAID_SEARCH, ChannelKind.PAID_SOCIAL, ChannelKind.PARTNER)


@dataclass(frozen=True)
class QualityCheck:
    code: str
    label: str
    count: int
    threshold: int
    over_threshold: bool
    rows_url: str


@dataclass(frozen=True)
class _Check:
    code: str
    label: str
    day_field: str
    rows: Callable[..., QuerySet]  # rows(start, end, channel) with channel a Channel or None
    by_channel: bool = True


def _accounts(start, end, channel) -> QuerySet[Account]:
    qs = Account.objects.filter(signed_up_at__gte=start, signed_up_at__lt=end)
    return qs.filter(channel=channel) if channel is not None else qs


def _no_channel_source(start, end, channel):
    # The channels named by id, not through a join, so each half of the condition is one range
    # of an index on (channel, signed_up_at): the unsourced rows' partial index for the second.
    unattributed = list(Channel.objects.filter(code=UNATTRIBUTED_CHANNEL).values_list("pk", flat=True))
    sourced = list(Channel.objects.filter(kind__in=SOURCED_KINDS).values_list("pk", flat=True))
    missing = Q(channel_id__in=unattributed) | Q(channel_id__in=sourced, utm_source="")
    return _accounts(start, end, channel).filter(missing, duplicate_of__isnull=True)


def _unmatched_events(start, end, channel):
    return RejectedEvent.objects.filter(
        reason=RejectionReason.UNKNOWN_ACCOUNT, received_at__gte=start, received_at__lt=end
    )


def _events_before_signup(start, end, channel):
    # The flag is decided at intake (accounts/eventflags.py: a product event dated before its
    # account's signed_up_at, which never changes): only the flagged rows are read, through
    # their partial index, then joined to the cohort's accounts.
    qs = AccountEvent.objects.filter(
        before_signup=True,
        account__signed_up_at__gte=start,
        account__signed_up_at__lt=end,
        account__duplicate_of__isnull=True,
    )
    return qs.filter(account__channel=channel) if channel is not None else qs


def _late_events(start, end, channel):
    qs = AccountEvent.objects.filter(occurred_at__gte=start, occurred_at__lt=end)
    # Decided at intake with today's threshold: only the flagged rows, by their partial index on
    # (occurred_at, channel). After the setting changed (until ``rebuild_event_flags``): the
    # definition itself, from every event of the range.
    qs = qs.filter(late=True) if late_flags_current() else qs.filter(late_q())
    return qs.filter(channel=channel) if channel is not None else qs


def _duplicate_workspaces(start, end, channel):
    # Marked accounts and candidates (accounts.namesakes) are flagged on the account's facts
    # (is_duplicate, namesake_candidate, kept by reports.namesakes): only the range's flagged
    # rows are read, through facts_duplicate_workspace_idx, not a namesake probe per account.
    flagged = AccountFacts.objects.filter(
        Q(is_duplicate=True) | Q(namesake_candidate=True), signed_up_at__gte=start, signed_up_at__lt=end
    )
    if channel is not None:
        flagged = flagged.filter(channel=channel)
    return _accounts(start, end, channel).filter(pk__in=flagged.values("account_id"))


def _unmatched_billing(start, end, channel):
    return BillingDrift.objects.filter(kind=DriftKind.UNMATCHED, opened_at__gte=start, opened_at__lt=end)


CHECKS = (
    _Check("no_channel_source", "Accounts with no channel source", "signed_up_at", _no_channel_source),
    _Check("unmatched_events", "Events naming no account", "received_at", _unmatched_events, False),
    _Check(
        "events_before_signup", "Events dated before signup", "account__signed_up_at", _events_before_signup
    ),
    _Check("late_events", "Late events (recorded > 24 h after)", "occurred_at", _late_events),
    _Check(
        "duplicate_workspaces",
        "Duplicate workspaces (marked and candidates)",
        "signed_up_at",
        _duplicate_workspaces,
    ),
    _Check("unmatched_billing", "Billing records no account claims", "opened_at", _unmatched_billing, False),
)
CHECKS_BY_CODE = {c.code: c for c in CHECKS}


def check_rows(
    code: str, *, since: date, until: date, channel: str | None = None, day: date | None = None
) -> QuerySet:
    """The rows behind one check's count: over the range, or one ``day`` of it (by the check's
    day field)."""
    start, end = bounds(since, until)
    if day is not None:
        day_field = CHECKS_BY_CODE[code].day_field
        rows = CHECKS_BY_CODE[code].rows(start, end, channel_named(channel))
        return rows.filter(
            **{f"{day_field}__gte": day_start(day), f"{day_field}__lt": day_start(day + timedelta(days=1))}
        )
    return CHECKS_BY_CODE[code].rows(start, end, channel_named(channel))


def threshold_of(code: str) -> int:
    return int(settings.REPORTS_QUALITY_THRESHOLDS.get(code, 0))


def quality_panel(
    *, since: date, until: date, channel: str | None = None
) -> tuple[list[QualityCheck], dict[str, dict[date, int]]]:
    """The panel in one pass, one grouped query per check: ``quality_checks`` and
    ``quality_by_day`` together. A check's count is the sum of its days (each check's day
    field lies in the range), so the range is read once, not once to count and again by day."""
    per_day: dict[str, dict[date, int]] = defaultdict(dict)
    found = []
    for check in CHECKS:
        rows = check_rows(check.code, since=since, until=until, channel=channel)
        grouped = (
            rows.annotate(day=TruncDate(check.day_field, tzinfo=UTC))
            .values("day")
            .annotate(n=Count("*"))
            .order_by()
        )
        for row in grouped:
            per_day[check.code][row["day"]] = row["n"]
        count = sum(per_day[check.code].values()) if check.code in per_day else 0
        threshold = threshold_of(check.code)
        url = rows_url(f"quality_{check.code}", since=since, until=until, channel=channel)
        found.append(QualityCheck(check.code, check.label, count, threshold, count > threshold, url))
    return found, dict(per_day)


def quality_checks(*, since: date, until: date, channel: str | None = None) -> list[QualityCheck]:
    """Every check's count over [since, until), its threshold and whether it is over it."""
    return quality_panel(since=since, until=until, channel=channel)[0]


def quality_day_url(code: str, *, since: date, until: date, channel: str | None, day: date) -> str:
    return rows_url(f"quality_{code}", since=since, until=until, channel=channel, day=day)


def quality_by_day(*, since: date, until: date, channel: str | None = None) -> dict[str, dict[date, int]]:
    """check code -> {day: count}, days (UTC) with none left out (``quality_day_url`` links
    each to its rows)."""
    return quality_panel(since=since, until=until, channel=channel)[1]


def _list_rows(code: str):
    def rows(params: dict) -> QuerySet:
        return check_rows(
            code,
            since=query_date(params, "since"),
            until=query_date(params, "until"),
            channel=params.get("channel") or None,
            day=query_date(params, "day", required=False),
        )

    return rows


_ACCOUNT_COLUMNS = (
    ("id", "pk"),
    ("Account", "external_id"),
    ("Name", "name"),
    ("Admin email", "admin_email"),
    ("Channel", "channel__code"),
    ("utm_source", "utm_source"),
    ("Signed up", "signed_up_at"),
    ("Duplicate of", "duplicate_of__external_id"),
)
_EVENT_COLUMNS = (
    ("id", "pk"),
    ("Event", "event_id"),
    ("Account", "account__external_id"),
    ("Type", "type"),
    ("Occurred", "occurred_at"),
    ("Recorded", "recorded_at"),
    ("Signed up", "account__signed_up_at"),
)
_COLUMNS = {
    "no_channel_source": _ACCOUNT_COLUMNS,
    "duplicate_workspaces": _ACCOUNT_COLUMNS,
    "events_before_signup": _EVENT_COLUMNS,
    "late_events": _EVENT_COLUMNS,
    "unmatched_events": (
        ("id", "pk"),
        ("Event", "event_id"),
        ("Account named", "account_ref"),
        ("Type", "type"),
        ("Occurred", "occurred_at"),
        ("Received", "received_at"),
        ("Errors", "errors"),
    ),
    "unmatched_billing": (
        ("id", "pk"),
        ("Stripe object", "subject"),
        ("Status", "status"),
        ("Found", "opened_at"),
        ("Last seen", "last_seen_at"),
    ),
}
for _check in CHECKS:
    register_list(f"quality_{_check.code}", _check.label, _COLUMNS[_check.code], _list_rows(_check.code))
