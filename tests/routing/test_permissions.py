from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.urls import reverse

from opsconsole.errors import PermissionRefused, ValidationFailed
from routing import selectors, services
from routing.models import Escalation, RoutingDecision, SlaBreach, Ticket
from tests.helpers.clients import logged_in


@pytest.fixture
def two_queues(make_queue, activate_rules):
    billing, defects = make_queue("billing"), make_queue("defects")
    activate_rules(
        [
            {
                "key": "billing",
                "queue": billing,
                "conditions": [{"field": "text", "op": "contains", "value": "invoice"}],
            },
            {
                "key": "defects",
                "queue": defects,
                "conditions": [{"field": "text", "op": "contains", "value": "bug"}],
            },
        ]
    )
    return billing, defects


@pytest.mark.django_db
def test_agents_see_and_work_only_their_queues(two_queues, make_user, intake, system):
    billing, defects = two_queues
    agent = make_user("support")
    services.queue_access_grant(queue=billing, user=agent, actor=system)
    invoice, bug = intake(subject="Invoice wrong"), intake(subject="A bug")
    agent = get_user_model().objects.get(pk=agent.pk)
    assert list(Ticket.objects.restrict(agent, "view")) == [invoice]
    services.ticket_respond(ticket=invoice, actor=agent)
    with pytest.raises(PermissionRefused):
        services.ticket_respond(ticket=bug, actor=agent)
    with pytest.raises(PermissionRefused):
        services.ticket_reassign(ticket=bug, queue=billing, reason="mine now", actor=agent)

    services.queue_access_revoke(queue=billing, user=agent, actor=system)
    agent = get_user_model().objects.get(pk=agent.pk)  # guardian caches permissions on the instance
    assert list(Ticket.objects.restrict(agent, "view")) == []


@pytest.mark.django_db
def test_group_grant_covers_every_member_and_ops_lead_sees_all(two_queues, make_user, intake, system):
    billing, defects = two_queues
    services.queue_access_grant(queue=defects, group=Group.objects.get(name="engineering"), actor=system)
    engineer, support, lead = make_user("engineering"), make_user("support"), make_user("ops_lead")
    bug, invoice = intake(subject="A bug"), intake(subject="Invoice")
    assert list(Ticket.objects.restrict(engineer, "view")) == [bug]
    assert list(Ticket.objects.restrict(support, "view")) == []
    assert set(Ticket.objects.restrict(lead, "view")) == {bug, invoice}


@pytest.mark.django_db
def test_reassignment_records_who_and_why_and_overrides(two_queues, make_user, intake, system):
    billing, defects = two_queues
    agent, engineer = make_user("support"), make_user("engineering")
    services.queue_access_grant(queue=billing, user=agent, actor=system)
    services.queue_access_grant(queue=defects, user=engineer, actor=system)
    ticket = intake(subject="Invoice shows a bug")
    with pytest.raises(ValidationFailed):
        services.ticket_reassign(ticket=ticket, queue=defects, reason="  ", actor=agent)
    with pytest.raises(ValidationFailed):  # the new owner must work the new queue
        services.ticket_reassign(ticket=ticket, queue=defects, owner=agent, reason="x", actor=agent)
    ticket = services.ticket_reassign(
        ticket=ticket,
        queue=defects,
        owner=engineer,
        category="product_defect",
        reason="It is a defect",
        actor=agent,
    )
    assert (ticket.queue, ticket.owner, ticket.reassignment_count) == (defects, engineer, 1)
    auto, manual = selectors.ticket_decisions(ticket)
    assert auto.overridden and auto.kind == "rule"
    assert (manual.kind, manual.decided_by, manual.reason) == ("manual", agent, "It is a defect")
    assert ticket.owner_assigned_at is not None


@pytest.mark.django_db
def test_auto_assign_picks_least_loaded_member(make_queue, activate_rules, make_user, intake, system):
    queue = make_queue("auto", auto_assign=True)
    activate_rules(
        [{"key": "auto", "queue": queue, "conditions": [{"field": "source", "op": "eq", "value": "zendesk"}]}]
    )
    a, b = make_user("support"), make_user("support")
    services.queue_access_grant(queue=queue, user=a, actor=system)
    services.queue_access_grant(queue=queue, user=b, actor=system)
    owners = [intake().owner for _ in range(4)]
    assert owners == [a, b, a, b]
    assert "fewest open tickets" in RoutingDecision.objects.filter(ticket__owner=a).first().reason


@pytest.mark.django_db
def test_decisions_breaches_and_escalations_follow_the_queue_a_user_works(
    two_queues, make_user, make_account, intake, system
):
    billing, defects = two_queues
    agent = make_user("support")
    services.queue_access_grant(queue=billing, user=agent, actor=system)
    agent = get_user_model().objects.get(pk=agent.pk)
    account = make_account()
    invoice = intake(subject="Invoice wrong", account_external_id=account.external_id)
    bug = intake(subject="A bug", account_external_id=account.external_id)
    for ticket in (invoice, bug):
        services.sla_breach_record(
            ticket_id=ticket.pk, target="owner", now=ticket.owner_due_at + timedelta(minutes=1), actor=system
        )
    lead = make_user("ops_lead")
    from_invoice = services.ticket_escalate(ticket=invoice, summary="wrong total", actor=lead)
    services.ticket_escalate(ticket=bug, summary="crash", actor=lead)
    from_exception = services.escalation_create(account=account, summary="export crash", actor=system)

    assert list(RoutingDecision.objects.restrict(agent, "view")) == list(invoice.decisions.all())
    assert [b.ticket for b in SlaBreach.objects.restrict(agent, "view")] == [invoice]
    # The ticket's queue shows its escalation; the queue it was handed to is engineering's.
    assert list(Escalation.objects.restrict(agent, "view")) == [from_invoice]
    engineer = make_user("engineering")
    services.queue_access_grant(queue=from_exception.queue, user=engineer, actor=system)
    engineer = get_user_model().objects.get(pk=engineer.pk)
    assert from_exception in Escalation.objects.restrict(engineer, "view")
    assert Escalation.objects.restrict(lead, "view").count() == 3


@pytest.mark.django_db
@pytest.mark.parametrize("model", ["routingdecision", "slabreach", "escalation"])
def test_decision_breach_and_escalation_lists_show_only_the_users_queues(
    model, two_queues, make_user, make_account, intake, system
):
    """These lists were not scoped to the user's queues before; they start from restrict() now."""
    billing, defects = two_queues
    agent, lead = make_user("support"), make_user("ops_lead")
    services.queue_access_grant(queue=billing, user=agent, actor=system)
    account = make_account()
    for subject in ("Invoice wrong", "A bug"):
        ticket = intake(subject=subject, account_external_id=account.external_id)
        late = ticket.owner_due_at + timedelta(minutes=1)
        services.sla_breach_record(ticket_id=ticket.pk, target="owner", now=late, actor=system)
        services.ticket_escalate(ticket=ticket, summary=subject, actor=lead)

    def listed(user):
        page = logged_in(user).get(reverse(f"admin:routing_{model}_changelist"), secure=True)
        assert page.status_code == 200
        return page.context["cl"].result_count

    assert (listed(agent), listed(lead)) == (1, 2)
