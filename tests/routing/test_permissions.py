import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from opsconsole.errors import PermissionRefused, ValidationFailed
from routing import selectors, services
from routing.models import RoutingDecision


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
    assert list(selectors.tickets_visible_to(agent)) == [invoice]
    services.ticket_respond(ticket=invoice, actor=agent)
    with pytest.raises(PermissionRefused):
        services.ticket_respond(ticket=bug, actor=agent)
    with pytest.raises(PermissionRefused):
        services.ticket_reassign(ticket=bug, queue=billing, reason="mine now", actor=agent)

    services.queue_access_revoke(queue=billing, user=agent, actor=system)
    agent = get_user_model().objects.get(pk=agent.pk)  # guardian caches permissions on the instance
    assert list(selectors.tickets_visible_to(agent)) == []


@pytest.mark.django_db
def test_group_grant_covers_every_member_and_ops_lead_sees_all(two_queues, make_user, intake, system):
    billing, defects = two_queues
    services.queue_access_grant(queue=defects, group=Group.objects.get(name="engineering"), actor=system)
    engineer, support, lead = make_user("engineering"), make_user("support"), make_user("ops_lead")
    bug, invoice = intake(subject="A bug"), intake(subject="Invoice")
    assert list(selectors.tickets_visible_to(engineer)) == [bug]
    assert list(selectors.tickets_visible_to(support)) == []
    assert set(selectors.tickets_visible_to(lead)) == {bug, invoice}


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
    auto, manual = RoutingDecision.objects.filter(ticket=ticket).order_by("id")
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
