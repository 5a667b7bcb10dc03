"""Every support metric (METRICS.md, "Support metrics") against an independent plain-Python
computation of its text, on randomized tickets built through the services: intake, the help
desk's updates, waiting on the customer, reassignment to a tier-3 queue, product events.

The expectation never reads a ticket's stored fields: it replays the generated plan, counts
business time minute by minute (Mon-Fri 09:00-17:00 UTC, minus pauses) and takes percentiles
by closest-rank interpolation written out here.
"""

import random
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from accounts.models import AccountEvent
from accounts.services import EventInput, account_events_record
from reports.metrics.support import support_report
from routing.models import Queue, Ticket
from routing.services import ticket_intake, ticket_reassign, ticket_resume, ticket_wait
from routing.support.services.updates import ticket_update_apply

SINCE = date(2026, 11, 2)  # a Monday
UNTIL = date(2026, 11, 23)
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
TARGET_MINUTES = {"chat": 60, "email": 240, "web": 480, "phone": 480}  # seeded via / sev4 general


def business_minutes(start, end, pauses):
    """Working minutes between two instants, stepping a minute at a time."""
    count, t = 0, start
    while t < end:
        working = t.weekday() < 5 and 9 <= t.hour < 17
        paused = any(a <= t < b for a, b in pauses)
        count += working and not paused
        t += timedelta(minutes=1)
    return count


def business_deadline(start, minutes, pauses):
    t, left = start, minutes
    while left > 0:
        if t.weekday() < 5 and 9 <= t.hour < 17 and not any(a <= t < b for a, b in pauses):
            left -= 1
        t += timedelta(minutes=1)
    return t


def pct(values, q):
    values = sorted(values)
    if not values:
        return None
    pos = (len(values) - 1) * q
    lo = int(pos)
    hi = min(lo + 1, len(values) - 1)
    return round(values[lo] + (values[hi] - values[lo]) * (pos - lo), 2)


def frac(n, d):
    return None if d == 0 else round(n / d, 4)


def minutes_after(start, rng, low, high):
    return start + timedelta(minutes=rng.randint(low, high))


@pytest.fixture
def plan(make_channel, make_account, make_user, system):
    rng = random.Random(15)
    channels = [make_channel("partner-a"), make_channel("partner-b")]
    accounts = [make_account(channel=channels[i % 2]) for i in range(6)]
    lead = make_user("ops_lead")
    engineering = Queue.objects.get(code="engineering-triage")
    tickets = []
    for n in range(30):
        account = rng.choice(accounts + [None])
        via = rng.choice(["chat", "email", "web", "phone"])
        day = SINCE + timedelta(days=rng.randrange(21))
        created = datetime(
            day.year, day.month, day.day, rng.randint(6, 18), rng.choice([0, 15, 40]), tzinfo=UTC
        )
        ticket, _ = ticket_intake(
            source="zendesk",
            external_id=str(1000 + n),
            requester_email=account.admin_email if account else f"x{n}@nobody.example",
            subject="Help",
            body="",
            account_external_id=account.external_id if account else None,
            received_at=created,
            via=via,
            actor=system,
        )
        p = {"ticket": ticket, "account": account, "via": via, "created": created, "pauses": [], "tier": 1}
        p["channel"] = account.channel.code if account else "unmatched"
        if rng.random() < 0.2:
            ticket_reassign(ticket=ticket, queue=engineering, reason="defect", actor=lead)
            p["tier"] = 3
        updates = []
        reply = minutes_after(created, rng, 5, 3000) if rng.random() < 0.8 else None
        if reply and reply < NOW:
            updates.append(
                ("internal", "agent_replied", minutes_after(created, rng, 1, 30), {"public": False})
            )
            updates.append(("reply", "agent_replied", reply, {"public": True}))
            updates.append(("reply2", "agent_replied", reply + timedelta(hours=2), {"public": True}))
            p["reply"] = reply
            t = reply + timedelta(minutes=30)
            if rng.random() < 0.4:
                pause = (t, minutes_after(t, rng, 30, 2000))
                p["pauses"].append(pause)
                t = pause[1] + timedelta(minutes=10)
            if rng.random() < 0.7:
                solved = minutes_after(t, rng, 10, 3000)
                updates.append(("solved", "solved", solved, {}))
                p["solved"] = [solved]
                if rng.random() < 0.3:
                    updates.append(("reopened", "reopened", solved + timedelta(hours=1), {}))
                    p["reopened"] = True
                    updates.append(("solved2", "solved", solved + timedelta(hours=3), {}))
                    p["solved"].append(solved + timedelta(hours=3))
                ratings = []
                for k in range(rng.choice([0, 1, 1, 2])):
                    at = solved + timedelta(hours=4 + k)
                    rating = rng.choice(["good", "good", "good", "bad"])
                    updates.append((f"csat{k}", "satisfaction", at, {"rating": rating}))
                    ratings.append((at, rating))
                p["ratings"] = ratings
        rng.shuffle(updates)  # the help desk's order is not the clock's
        for name, kind, at, extra in updates:
            if p["pauses"] and kind == "solved":
                continue
            ticket_update_apply(
                source="zendesk",
                external_id=ticket.external_id,
                update_id=f"{n}-{name}",
                kind=kind,
                occurred_at=at,
                actor=system,
                **extra,
            )
        for a, b in p["pauses"]:
            ticket_wait(ticket=ticket, actor=lead, now=a)
            ticket_resume(ticket=ticket, actor=lead, now=b)
        for name, kind, at, _extra in updates:
            if p["pauses"] and kind == "solved":
                ticket_update_apply(
                    source="zendesk",
                    external_id=ticket.external_id,
                    update_id=f"{n}-{name}",
                    kind=kind,
                    occurred_at=at,
                    actor=system,
                )
        tickets.append(p)
    for i, account in enumerate(accounts):
        for week in range(3):
            if rng.random() < 0.7:
                at = datetime.combine(
                    SINCE + timedelta(days=7 * week + rng.randrange(7)), datetime.min.time(), UTC
                )
                account_events_record(
                    account=account,
                    events=[EventInput(f"ev-{i}-{week}", "user.login", at + timedelta(hours=10))],
                    actor=system,
                )
    return {"tickets": tickets, "channels": [c.code for c in channels]}


def expected(tickets):
    frt, within, due_count, t1_in, t1_due, good, rated, solved, reopened = [], 0, 0, 0, 0, 0, 0, 0, 0
    for p in tickets:
        created = p["created"]
        due = business_deadline(created, TARGET_MINUTES[p["via"]], [])
        if "reply" in p:
            frt.append(business_minutes(created, p["reply"], []) / 60)
        if "reply" in p or due <= NOW:
            due_count += 1
            within += "reply" in p and p["reply"] <= due
        if p["tier"] == 1:
            deadline = business_deadline(created, 24 * 60, p["pauses"])
            first_solve = min(p["solved"]) if p.get("solved") else None
            if first_solve or deadline <= NOW:
                t1_due += 1
                t1_in += bool(first_solve) and first_solve <= deadline
        if p.get("ratings"):
            rated += 1
            good += max(p["ratings"])[1] == "good"
        if p.get("solved"):
            solved += 1
            reopened += bool(p.get("reopened"))
    return {
        "first_response_h": (pct(frt, 0.5), pct(frt, 0.9), len(frt)),
        "first_response_within_target_rate": (frac(within, due_count), within, due_count),
        "tier1_resolution_24h_rate": (frac(t1_in, t1_due), t1_in, t1_due),
        "csat": (frac(good, rated), good, rated),
        "reopen_rate": (frac(reopened, solved), reopened, solved),
    }


def actual(metrics):
    frt = metrics["first_response_h"]
    out = {"first_response_h": (frt.p50, frt.p90, frt.n)}
    for code in ("first_response_within_target_rate", "tier1_resolution_24h_rate", "csat", "reopen_rate"):
        v = metrics[code]
        out[code] = (v.value, v.numerator, v.denominator)
    return out


@pytest.mark.django_db
@pytest.mark.parametrize("group_by", ["channel", "queue", "tier", "via"])
def test_support_metrics_match_an_independent_computation(plan, group_by):
    report = support_report(since=SINCE, until=UNTIL, group_by=group_by, now=NOW)
    key = {"channel": "channel", "via": "via", "tier": "tier", "queue": None}[group_by]
    groups = defaultdict(list)
    for p in plan["tickets"]:
        name = str(p[key]) if key else ("engineering-triage" if p["tier"] == 3 else "triage")
        groups[name].append(p)
    by_name = {row.group: row for row in report.rows}
    for name, tickets in groups.items():
        assert actual(by_name[name].metrics) == expected(tickets), (group_by, name)
    assert actual(report.total.metrics) == expected(plan["tickets"])


@pytest.mark.django_db
def test_tickets_per_active_account_week_and_its_trend(plan):
    report = support_report(since=SINCE, until=UNTIL, now=NOW)
    events = list(AccountEvent.objects.filter(source="product").select_related("account__channel"))
    tickets = list(Ticket.objects.select_related("account__channel"))
    for code in [*plan["channels"], None]:
        values = []
        for week in range(3):
            start = datetime.combine(SINCE + timedelta(days=7 * week), datetime.min.time(), UTC)
            end = start + timedelta(days=7)
            active = {
                e.account_id
                for e in events
                if start <= e.occurred_at < end and (code is None or e.account.channel.code == code)
            }
            n = sum(
                1
                for t in tickets
                if start <= t.created_at < end
                and (code is None or (t.account and t.account.channel.code == code))
            )
            values.append((n, len(active), None if not active else round(n / len(active), 4)))
        row = report.total if code is None else next(r for r in report.rows if r.group == code)
        trend = row.metrics["tickets_per_active_account_week"]
        assert [(v.numerator, v.denominator, v.value) for _, v in trend.weeks] == values
        points = [(i, v) for i, (_, _, v) in enumerate(values) if v is not None]
        if len(points) >= 2:
            mx = sum(x for x, _ in points) / len(points)
            my = sum(y for _, y in points) / len(points)
            slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
            assert trend.slope == pytest.approx(slope, abs=1e-4)


@pytest.mark.django_db
def test_no_ratings_is_null_not_zero(system):
    report = support_report(since=SINCE, until=UNTIL, now=NOW)
    assert report.total.metrics["csat"].value is None
    assert report.total.metrics["first_response_h"].p50 is None


@pytest.mark.django_db
def test_the_randomized_plan_exercises_every_branch(plan):
    """Guard against a vacuous comparison: the plan has answered, unanswered, paused, reopened,
    rated, tier-1 and tier-3 tickets, and the figures are neither all zero nor all one."""
    report = support_report(since=SINCE, until=UNTIL, now=NOW)
    m = report.total.metrics
    tickets = plan["tickets"]
    assert any(p["pauses"] for p in tickets) and any(p.get("reopened") for p in tickets)
    assert any(p["tier"] == 3 for p in tickets) and any("reply" not in p for p in tickets)
    assert m["first_response_h"].n >= 10
    for code in ("first_response_within_target_rate", "tier1_resolution_24h_rate", "csat", "reopen_rate"):
        assert 0 < m[code].value < 1, (code, m[code])
