"""Working a ticket through guarded actions: who may, on which ticket, and what each one does."""

import pytest
from django.contrib.auth import get_user_model
from rest_framework.test import APIClient

from opsconsole.actions.registry import actions_for_model
from opsconsole.actions.services import run_action
from opsconsole.errors import ApplicationError, PermissionRefused
from opsconsole.models import ActionRun, ActionStatus
from routing import services
from routing.choices import TicketStatus
from tests.helpers.clients import logged_in
from tests.helpers.tickets import TICKET_ACTIONS, ticket_ready_for

pytestmark = pytest.mark.django_db

STAFF = ["support", "billing", "engineering", "ops_lead"]


def _fresh(user):
    return get_user_model().objects.get(pk=user.pk)  # guardian caches permissions on the instance


@pytest.fixture
def ticket_for(intake, make_account, make_user):
    """A ticket on which ``name`` applies: matched to an account, and waiting for ``resume_ticket``."""

    def _make(name):
        ticket = intake(account_external_id=make_account().external_id)
        return ticket_ready_for(name, ticket, actor=make_user("ops_lead"))

    return _make


def _run(name, ticket, user, params=None, **kwargs):
    return run_action(name=name, target=ticket, actor=user, params=params or {}, **kwargs)


def test_every_ticket_action_is_registered_on_tickets():
    names = {a.name for a in actions_for_model("routing.Ticket")}
    assert names == set(TICKET_ACTIONS)


@pytest.mark.parametrize("role", STAFF)
@pytest.mark.parametrize("name", sorted(TICKET_ACTIONS))
def test_staff_working_the_queue_may_run_each_action(role, name, ticket_for, make_user, system):
    ticket = ticket_for(name)
    user = make_user(role)
    services.queue_access_grant(queue=ticket.queue, user=user, actor=system)
    outcome = _run(name, ticket, _fresh(user), TICKET_ACTIONS[name], dry_run=True)
    assert outcome.preview["action"] == name


@pytest.mark.parametrize("role", ["support", "billing", "engineering"])
@pytest.mark.parametrize("name", sorted(TICKET_ACTIONS))
def test_staff_outside_the_queue_are_refused(role, name, ticket_for, make_user):
    ticket = ticket_for(name)
    with pytest.raises(PermissionRefused) as refused:
        _run(name, ticket, make_user(role), TICKET_ACTIONS[name], dry_run=True)
    # A ticket outside the user's queues is one they cannot see, so the framework refuses it.
    assert refused.value.code == "action_not_permitted"
    assert refused.value.message == "You do not have access to this ticket."


@pytest.mark.parametrize("role", ["product", None])
@pytest.mark.parametrize("name", sorted(TICKET_ACTIONS))
def test_roles_that_do_not_work_tickets_are_refused_even_with_a_grant(
    role, name, ticket_for, make_user, system
):
    ticket = ticket_for(name)
    user = make_user(role)
    services.queue_access_grant(queue=ticket.queue, user=user, actor=system)
    with pytest.raises(PermissionRefused) as refused:
        _run(name, ticket, _fresh(user), TICKET_ACTIONS[name], dry_run=True)
    assert refused.value.code == "action_not_permitted"


def test_an_ops_lead_works_every_queue_without_a_grant(intake, make_user):
    ticket = intake()
    lead = make_user("ops_lead")
    run = _run("take_ticket", ticket, lead, idempotency_key="take-1").run
    ticket.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED and ticket.owner == lead


def test_a_run_is_recorded_against_the_tickets_account(intake, make_account, make_user):
    account = make_account()
    ticket = intake(account_external_id=account.external_id)
    run = _run("mark_first_response", ticket, make_user("ops_lead"), idempotency_key="r-1").run
    assert run.account == account and run.target_repr == str(ticket)
    ticket.refresh_from_db()
    assert ticket.first_response_at is not None


def test_waiting_stops_the_clocks_and_resuming_restarts_them(intake, make_user):
    ticket = intake()
    lead = make_user("ops_lead")
    _run("wait_on_customer", ticket, lead, idempotency_key="w-1")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.WAITING and ticket.owner_due_at is None
    names = {a.name for a in actions_for_model("routing.Ticket") if a.applies_to(ticket)}
    assert "resume_ticket" in names and "wait_on_customer" not in names
    _run("resume_ticket", ticket, lead, idempotency_key="r-1")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW and ticket.owner_due_at is not None


def test_reassign_names_queue_and_owner_and_refuses_unknown_ones(intake, make_queue, make_user, system):
    ticket = intake()
    billing = make_queue("billing")
    agent = make_user("billing")
    services.queue_access_grant(queue=billing, user=agent, actor=system)
    lead = make_user("ops_lead")
    params = {"queue": "billing", "owner": agent.username, "severity": "sev2", "reason": "a refund"}
    run = _run("reassign_ticket", ticket, lead, params, idempotency_key="ra-1").run
    ticket.refresh_from_db()
    assert run.status == ActionStatus.SUCCEEDED
    assert (ticket.queue, ticket.owner, ticket.severity) == (billing, agent, "sev2")
    assert ticket.decisions.filter(kind="manual", decided_by=lead, reason="a refund").exists()
    with pytest.raises(ApplicationError) as refused:
        _run("reassign_ticket", ticket, lead, {"queue": "nowhere", "reason": "x"}, dry_run=True)
    assert refused.value.code == "invalid_parameters" and "queue" in refused.value.extra


def test_a_solved_ticket_offers_nothing_and_refuses_work(intake, make_user):
    ticket = intake()
    lead = make_user("ops_lead")
    _run("solve_ticket", ticket, lead, {"final_category": "billing"}, idempotency_key="s-1")
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.SOLVED
    assert not [a for a in actions_for_model("routing.Ticket") if a.applies_to(ticket)]
    with pytest.raises(ApplicationError) as refused:
        _run("take_ticket", ticket, lead, idempotency_key="t-1")
    assert refused.value.code == "ticket_status"
    assert ActionRun.objects.get(action="take_ticket").status == ActionStatus.REFUSED


def test_escalating_a_ticket_hands_it_to_engineering(intake, make_account, make_user):
    account = make_account()
    ticket = intake(account_external_id=account.external_id)
    run = _run(
        "escalate_ticket", ticket, make_user("ops_lead"), {"summary": "crash"}, idempotency_key="e-1"
    ).run
    ticket.refresh_from_db()
    assert run.result["queue"] == "engineering-triage" and ticket.status == TicketStatus.ESCALATED


def test_the_api_finds_a_ticket_only_for_those_who_work_its_queue(intake, make_user, system):
    ticket = intake()
    agent = make_user("support")
    client = logged_in(agent, client_class=APIClient)

    def post(key):
        return client.post(
            "/api/v1/actions/take_ticket/",
            {"target": str(ticket.pk)},
            format="json",
            secure=True,
            HTTP_IDEMPOTENCY_KEY=key,
        )

    assert post("k1").status_code == 404
    services.queue_access_grant(queue=ticket.queue, user=agent, actor=system)
    assert post("k2").status_code in (200, 201)
    ticket.refresh_from_db()
    assert ticket.owner == agent
