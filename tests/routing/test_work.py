"""My work and the global search as routing answers them (routing/selectors/work.py, merged by
opsconsole/home.py): a person's open tickets in work order, their queues' figures, a lead's
breaches today, and a search that finds only the tickets of queues the user works."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from accounts.services import exception_open
from opsconsole import home, roles
from routing import services
from routing.models import SlaBreach, Ticket
from routing.selectors.work import breaches_today, my_queue_figures, my_tickets, search_tickets


@pytest.fixture
def support_desk(triage_queue, system):
    """Support works triage, as in production (the grant is per role)."""
    services.queue_access_grant(queue=triage_queue, group=Group.objects.get(name=roles.SUPPORT), actor=system)
    return triage_queue


@pytest.fixture
def billing_queue(make_queue, system):
    queue = make_queue("billing-desk", team="billing")
    services.queue_access_grant(queue=queue, group=Group.objects.get(name=roles.BILLING), actor=system)
    return queue


def _owned(intake, *, owner, queue, lead, due_in: timedelta | None, **fields) -> Ticket:
    """A ticket ``owner`` owns in ``queue``, whose first unmet target falls due ``due_in`` from
    now (None: the clock is stopped, nothing is due)."""
    ticket = intake(**fields)
    services.ticket_reassign(ticket=ticket, queue=queue, owner=owner, reason="yours", actor=lead)
    ticket.refresh_from_db()
    due = None if due_in is None else timezone.now() + due_in
    # Arrange the clock: the policy's own due times depend on the calendar and the day.
    Ticket.objects.filter(pk=ticket.pk).update(
        owner_due_at=None, first_response_due_at=due, resolution_due_at=None, first_response_at=None
    )
    ticket.refresh_from_db()
    return ticket


@pytest.mark.django_db
def test_my_work_lists_overdue_first_then_by_due_time_across_tickets_and_exceptions(
    intake, support_desk, make_user, account, system
):
    agent, other, lead = make_user("support"), make_user("support"), make_user("ops_lead")
    soon = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=timedelta(hours=2))
    most_overdue = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=timedelta(hours=-3))
    overdue = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=timedelta(hours=-1))
    paused = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=None)
    _owned(intake, owner=other, queue=support_desk, lead=lead, due_in=timedelta(hours=-5))  # not mine
    solved = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=timedelta(hours=-9))
    services.ticket_solve(ticket=solved, final_category="documentation", actor=agent)
    exception = exception_open(account=account, reason_code="invite_expired", owner_user=agent, actor=system)
    type(exception).objects.filter(pk=exception.pk).update(respond_by=timezone.now() - timedelta(hours=2))

    work = home.my_work(agent, now=timezone.now())

    labels = [item.label for item in work]
    assert labels == [
        str(most_overdue),
        f"#{exception.pk} invite_expired",
        str(overdue),
        str(soon),
        str(paused),
    ]
    now = timezone.now()
    assert [item.overdue(now) for item in work] == [True, True, True, False, False]
    assert work[1].url.endswith(f"/accounts/opsexception/{exception.pk}/change/")


@pytest.mark.django_db
def test_my_tickets_are_only_the_open_ones_i_own(intake, support_desk, make_user):
    agent, lead = make_user("support"), make_user("ops_lead")
    mine = _owned(intake, owner=agent, queue=support_desk, lead=lead, due_in=timedelta(hours=1))
    _owned(intake, owner=lead, queue=support_desk, lead=lead, due_in=timedelta(hours=1))
    assert [item.label for item in my_tickets(agent, now=timezone.now())] == [str(mine)]


@pytest.mark.django_db
def test_search_finds_a_billing_queue_ticket_only_for_those_who_work_that_queue(
    intake, support_desk, billing_queue, make_user
):
    lead = make_user("ops_lead")
    ticket = intake(external_id="zd-bill-7", requester_email="payer@acme-corp.example", request_id="req-77aa")
    services.ticket_reassign(ticket=ticket, queue=billing_queue, reason="billing", actor=lead)
    in_triage = intake(external_id="zd-tri-1", requester_email="helpme@acme-corp.example")

    support, billing = make_user("support"), make_user("billing")
    for query in ("zd-bill-7", "req-77aa", "payer@acme-corp.example"):
        assert search_tickets(support, query) == []
        assert [hit.label for hit in search_tickets(billing, query)] == [str(ticket)]
        assert [hit.label for hit in search_tickets(lead, query)] == [str(ticket)]
    # By domain: each sees the tickets of their own queues.
    assert [hit.label for hit in search_tickets(support, "acme-corp.example")] == [str(in_triage)]
    assert {hit.label for hit in search_tickets(lead, "acme-corp.example")} == {str(ticket), str(in_triage)}
    # Through the framework's search too, with what matched.
    found = home.search(billing, "req-77aa")
    assert [(hit.kind, hit.matched) for hit in found] == [("Ticket", "request id")]
    assert home.search(support, "req-77aa") == []


@pytest.mark.django_db
def test_my_queues_figures_count_open_tickets_past_target_and_p90_age(intake, support_desk, make_user):
    agent, lead = make_user("support"), make_user("ops_lead")
    now = timezone.now()
    ages = [1, 2, 3, 4, 10]
    for hours in ages:
        ticket = _owned(
            intake,
            owner=agent,
            queue=support_desk,
            lead=lead,
            due_in=timedelta(hours=-1) if hours >= 4 else timedelta(hours=1),
        )
        Ticket.objects.filter(pk=ticket.pk).update(created_at=now - timedelta(hours=hours))

    figures = {row["queue"].code: row for row in my_queue_figures(agent, now=now)}

    assert set(figures) == {"triage"}
    assert figures["triage"]["open"] == 5
    assert figures["triage"]["past_target"] == 2
    # p90 by hand: ranks 0..4 over [1, 2, 3, 4, 10], position 3.6 -> 4 + 0.6 * (10 - 4)
    assert figures["triage"]["p90_hours"] == pytest.approx(4 + 0.6 * 6)
    assert my_queue_figures(make_user("billing"), now=now) == []


@pytest.mark.django_db
def test_breaches_today_are_for_leads_only(intake, support_desk, make_user):
    ticket = intake()
    now = timezone.now()
    SlaBreach.objects.create(
        ticket=ticket, target="owner", due_at=now - timedelta(minutes=5), detected_at=now, queue=support_desk
    )
    SlaBreach.objects.create(
        ticket=ticket,
        target="first_response",
        due_at=now - timedelta(days=2),
        detected_at=now - timedelta(days=2),
        queue=support_desk,
    )
    lead = make_user("ops_lead")
    assert [b.target for b in breaches_today(lead, now=now)] == ["owner"]
    assert list(breaches_today(make_user("support"), now=now)) == []
