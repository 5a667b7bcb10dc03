"""The scope every constraint panel reads: a date range read as METRICS.md reads it (``since``
and ``until`` are dates, midnight UTC, ``until`` excluded) and optionally one channel.

The account cohort is METRICS.md's: accounts whose ``signed_up_at`` falls in [since, until) and
that are not marked as duplicates, of the channel when one is given.
"""

from datetime import date, datetime

from django.db.models import QuerySet

from accounts.models import Account, Channel
from opsconsole.errors import NotFound
from reports.metrics import validate_query
from reports.metrics.accounts import cohort_facts
from reports.metrics.sql import day_start


def bounds(since: date, until: date) -> tuple[datetime, datetime]:
    """[since, until) as aware datetimes, after refusing a bad range (400)."""
    validate_query(since=since, until=until)
    return day_start(since), day_start(until)


def channel_named(code: str | None) -> Channel | None:
    """The channel ``code`` (None for every channel); an unknown code is a 404."""
    if not code:
        return None
    channel = Channel.objects.filter(code=code).first()
    if channel is None:
        raise NotFound("unknown_channel", f"There is no channel {code!r}.", {"channel": code})
    return channel


def cohort(*, since: date, until: date, channel: str | None = None) -> QuerySet[Account]:
    """The cohort's accounts (METRICS.md): signed up in [since, until), not duplicates."""
    start, end = bounds(since, until)
    qs = Account.objects.filter(signed_up_at__gte=start, signed_up_at__lt=end, duplicate_of__isnull=True)
    found = channel_named(channel)
    if found is not None:
        qs = qs.filter(channel=found)
    return qs


def cohort_facts_rows(*, since: date, until: date, channel: str | None = None) -> QuerySet:
    """``cohort``'s accounts as their facts rows (``reports.metrics.accounts.cohort_facts``, on
    the reports database), after the same checks: a bad range is a 400, an unknown channel a 404."""
    bounds(since, until)
    return cohort_facts(since=since, until=until, channel=channel_named(channel))
