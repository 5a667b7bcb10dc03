"""SLA arithmetic: business time on a calendar with holidays, minus the time spent waiting.

Pure functions of plain values, so the table-driven tests need no database. A clock runs
only inside the calendar's working hours (or always, for a 24x7 policy) and never while the
ticket waits on the customer. Pauses are kept as wall-clock intervals, not as a count of
minutes, so a policy change (another calendar, other targets) re-reads the same pauses.
"""

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

# A calendar with no working day would loop forever; nobody waits longer than this anyway.
MAX_DAYS_SCANNED = 3 * 366

Interval = tuple[datetime, datetime]
Pause = tuple[datetime, datetime | None]  # end None: still waiting


@dataclass(frozen=True)
class CalendarSpec:
    timezone: str = "UTC"
    weekdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    day_start: time = time(9, 0)
    day_end: time = time(17, 0)
    holidays: frozenset[date] = field(default_factory=frozenset)
    always_open: bool = False


ALWAYS_OPEN = CalendarSpec(always_open=True)


def _open_intervals(spec: CalendarSpec, start: datetime) -> Iterator[Interval]:
    """The calendar's working intervals from ``start`` on, in order."""
    if spec.always_open:
        yield start, datetime.max.replace(tzinfo=UTC)
        return
    zone = ZoneInfo(spec.timezone)
    day = start.astimezone(zone).date()
    for _ in range(MAX_DAYS_SCANNED):
        if day.weekday() in spec.weekdays and day not in spec.holidays:
            opens = datetime.combine(day, spec.day_start, tzinfo=zone).astimezone(UTC)
            closes = datetime.combine(day, spec.day_end, tzinfo=zone).astimezone(UTC)
            if closes > start:
                yield max(opens, start), closes
        day += timedelta(days=1)


def _minus_pauses(intervals: Iterable[Interval], pauses: list[Pause]) -> Iterator[Interval]:
    """Cut the waiting time out of working intervals."""
    far = datetime.max.replace(tzinfo=UTC)
    ordered = sorted((a, b or far) for a, b in pauses)
    for a, b in intervals:
        cursor = a
        for p_start, p_end in ordered:
            if p_end <= cursor or p_start >= b:
                continue
            if p_start > cursor:
                yield cursor, p_start
            cursor = max(cursor, p_end)
            if cursor >= b:
                break
        if cursor < b:
            yield cursor, b
        if cursor >= far:
            return


def add_business_time(
    spec: CalendarSpec, start: datetime, amount: timedelta, pauses: list[Pause] = ()
) -> datetime | None:
    """When ``amount`` of running clock has passed since ``start``; None while paused for good
    (an open pause stops the clock before the amount is reached)."""
    remaining = amount
    if remaining <= timedelta(0):
        return start
    for a, b in _minus_pauses(_open_intervals(spec, start), list(pauses)):
        if b - a >= remaining:
            return a + remaining
        remaining -= b - a
    return None


def business_time_between(
    spec: CalendarSpec, start: datetime, end: datetime, pauses: list[Pause] = ()
) -> timedelta:
    """Running clock between two instants."""
    total = timedelta(0)
    if end <= start:
        return total
    for a, b in _minus_pauses(_open_intervals(spec, start), list(pauses)):
        if a >= end:
            break
        total += min(b, end) - a
    return total


def parse_pauses(raw: list) -> list[Pause]:
    """Pauses as stored on a ticket: [[iso start, iso end or null], ...]."""
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b) if b else None) for a, b in (raw or [])]


def dump_pauses(pauses: list[Pause]) -> list:
    return [[a.isoformat(), b.isoformat() if b else None] for a, b in pauses]
