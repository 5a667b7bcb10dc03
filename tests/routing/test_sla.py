"""SLA arithmetic, table-driven, then the clocks on real tickets (pauses, policy changes)."""

from datetime import UTC, date, datetime, time, timedelta

import pytest

from opsconsole.errors import Conflict
from routing import services
from routing.models import BusinessCalendar, Holiday, SlaPolicy
from routing.selectors.setup import policy_clock
from routing.sla import ALWAYS_OPEN, CalendarSpec, add_business_time, business_time_between

# Mon 2026-11-23 is a Monday; Fri 2026-12-25 is a holiday.
OFFICE = CalendarSpec(
    timezone="UTC",
    weekdays=frozenset({0, 1, 2, 3, 4}),
    day_start=time(9),
    day_end=time(17),
    holidays=frozenset({date(2026, 12, 25)}),
)
BERLIN = CalendarSpec(timezone="Europe/Berlin", day_start=time(9), day_end=time(17))


def utc(y, m, d, hh, mm=0):
    return datetime(y, m, d, hh, mm, tzinfo=UTC)


@pytest.mark.parametrize(
    "spec,start,minutes,pauses,expected",
    [
        pytest.param(OFFICE, utc(2026, 11, 23, 10), 15, [], utc(2026, 11, 23, 10, 15), id="inside-hours"),
        pytest.param(OFFICE, utc(2026, 11, 23, 16, 50), 15, [], utc(2026, 11, 24, 9, 5), id="over-night"),
        pytest.param(OFFICE, utc(2026, 11, 27, 16), 120, [], utc(2026, 11, 30, 10), id="over-weekend"),
        pytest.param(OFFICE, utc(2026, 11, 28, 12), 15, [], utc(2026, 11, 30, 9, 15), id="opened-saturday"),
        pytest.param(OFFICE, utc(2026, 11, 23, 7), 30, [], utc(2026, 11, 23, 9, 30), id="before-opening"),
        pytest.param(OFFICE, utc(2026, 11, 23, 18), 30, [], utc(2026, 11, 24, 9, 30), id="after-closing"),
        pytest.param(
            OFFICE, utc(2026, 12, 24, 16, 30), 60, [], utc(2026, 12, 28, 9, 30), id="holiday-friday"
        ),
        pytest.param(OFFICE, utc(2026, 11, 23, 10), 3 * 8 * 60, [], utc(2026, 11, 26, 10), id="three-days"),
        pytest.param(
            ALWAYS_OPEN, utc(2026, 11, 28, 12), 15, [], utc(2026, 11, 28, 12, 15), id="24x7-weekend"
        ),
        pytest.param(OFFICE, utc(2026, 11, 23, 10), 0, [], utc(2026, 11, 23, 10), id="zero"),
        pytest.param(
            OFFICE,
            utc(2026, 11, 23, 10),
            60,
            [(utc(2026, 11, 23, 10, 30), utc(2026, 11, 23, 11))],
            utc(2026, 11, 23, 11, 30),
            id="pause-inside-hours",
        ),
        pytest.param(
            OFFICE,
            utc(2026, 11, 23, 16),
            120,
            [(utc(2026, 11, 23, 16, 30), utc(2026, 11, 24, 10))],
            utc(2026, 11, 24, 11, 30),
            id="pause-over-night",
        ),
        pytest.param(
            OFFICE,
            utc(2026, 11, 23, 10),
            60,
            [(utc(2026, 11, 22, 10), utc(2026, 11, 22, 20))],
            utc(2026, 11, 23, 11),
            id="pause-on-sunday-costs-nothing",
        ),
        pytest.param(
            OFFICE,
            utc(2026, 11, 23, 10),
            60,
            [
                (utc(2026, 11, 23, 10, 10), utc(2026, 11, 23, 10, 20)),
                (utc(2026, 11, 23, 10, 40), utc(2026, 11, 23, 10, 50)),
            ],
            utc(2026, 11, 23, 11, 20),
            id="two-pauses",
        ),
        pytest.param(
            OFFICE, utc(2026, 11, 23, 10), 60, [(utc(2026, 11, 23, 10, 30), None)], None, id="still-waiting"
        ),
        pytest.param(
            ALWAYS_OPEN,
            utc(2026, 11, 23, 10),
            60,
            [(utc(2026, 11, 23, 10, 30), None)],
            None,
            id="still-waiting-24x7",
        ),
        pytest.param(BERLIN, utc(2026, 11, 23, 7, 55), 10, [], utc(2026, 11, 23, 8, 10), id="berlin-winter"),
        pytest.param(BERLIN, utc(2026, 7, 6, 6, 55), 10, [], utc(2026, 7, 6, 7, 10), id="berlin-summer"),
    ],
)
def test_due_time(spec, start, minutes, pauses, expected):
    assert add_business_time(spec, start, timedelta(minutes=minutes), pauses) == expected


@pytest.mark.parametrize(
    "spec,start,end,pauses,minutes",
    [
        (OFFICE, utc(2026, 11, 23, 10), utc(2026, 11, 23, 12), [], 120),
        (OFFICE, utc(2026, 11, 27, 16), utc(2026, 11, 30, 10), [], 120),
        (OFFICE, utc(2026, 12, 24, 9), utc(2026, 12, 28, 9), [], 8 * 60),
        (OFFICE, utc(2026, 11, 23, 10), utc(2026, 11, 23, 12), [(utc(2026, 11, 23, 11), None)], 60),
        (ALWAYS_OPEN, utc(2026, 11, 28, 0), utc(2026, 11, 29, 0), [], 24 * 60),
        (OFFICE, utc(2026, 11, 23, 12), utc(2026, 11, 23, 10), [], 0),
    ],
)
def test_business_time_between(spec, start, end, pauses, minutes):
    assert business_time_between(spec, start, end, pauses) == timedelta(minutes=minutes)


@pytest.fixture
def around_the_clock(db):
    calendar = BusinessCalendar.objects.get(name="Business hours (UTC)")

    def _policy(name, first_response):
        return SlaPolicy.objects.create(
            name=name,
            severity="sev2",
            calendar=calendar,
            business_hours=False,
            owner_minutes=15,
            first_response_minutes=first_response,
            resolution_minutes=24 * 60,
        )

    return _policy


@pytest.mark.django_db
def test_waiting_pauses_the_clock_and_survives_a_policy_change(intake, make_user, around_the_clock):
    lead = make_user("ops_lead")
    short, long = around_the_clock("fast", 60), around_the_clock("slow", 120)
    ticket = intake(subject="Question")
    ticket = services.ticket_policy_set(ticket=ticket, policy=short, actor=lead)
    created = ticket.created_at
    assert ticket.first_response_due_at == created + timedelta(minutes=60)

    ticket = services.ticket_wait(ticket=ticket, actor=lead, now=created + timedelta(minutes=10))
    assert ticket.first_response_due_at is None  # the clock is stopped
    ticket = services.ticket_resume(ticket=ticket, actor=lead, now=created + timedelta(minutes=40))
    assert ticket.first_response_due_at == created + timedelta(minutes=90)

    ticket = services.ticket_policy_set(ticket=ticket, policy=long, actor=lead)
    assert ticket.first_response_due_at == created + timedelta(minutes=150)
    assert ticket.sla_policy == long


@pytest.mark.django_db
def test_met_targets_keep_their_due_time(intake, make_user, around_the_clock):
    lead = make_user("ops_lead")
    ticket = services.ticket_policy_set(ticket=intake(), policy=around_the_clock("p", 60), actor=lead)
    ticket = services.ticket_respond(ticket=ticket, actor=lead)
    due = ticket.first_response_due_at
    ticket = services.ticket_wait(ticket=ticket, actor=lead)
    assert ticket.first_response_due_at == due and ticket.resolution_due_at is None


@pytest.mark.django_db
def test_waiting_twice_or_resuming_a_running_ticket_is_refused(intake, make_user):

    lead = make_user("ops_lead")
    ticket = services.ticket_wait(ticket=intake(), actor=lead)
    with pytest.raises(Conflict):
        services.ticket_wait(ticket=ticket, actor=lead)
    services.ticket_resume(ticket=ticket, actor=lead)
    with pytest.raises(Conflict):
        services.ticket_resume(ticket=ticket, actor=lead)


@pytest.mark.django_db
def test_a_policy_clock_follows_its_calendar_and_holidays():
    around_the_clock = SlaPolicy.objects.get(name="sev1 general")
    business_hours = SlaPolicy.objects.get(name="sev3 general")
    assert policy_clock(around_the_clock) == ALWAYS_OPEN
    assert date(2027, 1, 1) not in policy_clock(business_hours).holidays
    Holiday.objects.create(calendar=business_hours.calendar, date=date(2027, 1, 1), name="New Year")
    assert date(2027, 1, 1) in policy_clock(business_hours).holidays
