"""The console pages: the ticket says why it has its owner, queues show age percentiles, a
backtest shows its diff, and agents only reach their own queues."""

import json
import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from routing import services
from routing.models import Ticket


def press(client, name, ticket, **params):
    """Press a guarded action's button on the ticket page: fill its form, preview, confirm."""
    page = client.get(reverse("admin:routing_ticket_change", args=[ticket.pk]), secure=True)
    button = re.search(rf'href="([^"]+)"[^>]*data-action="{name}"', page.content.decode())
    assert button, f"no {name} button on the ticket page"
    form = {"preview": "Preview", **{f"param_{key}": value for key, value in params.items()}}
    preview = client.post(button.group(1), form, secure=True).content.decode()
    token = re.search(r'name="preview_token" value="([^"]+)"', preview)
    assert token, f"no preview of {name}"
    return client.post(button.group(1), {"preview_token": token.group(1)}, secure=True)


@pytest.mark.django_db
def test_ticket_page_shows_why_this_owner_and_context(console_for, intake, make_account):
    account = make_account()
    ticket = intake(subject="Where is my invoice", account_external_id=account.external_id)
    page = console_for("ops_lead").get(reverse("admin:routing_ticket_change", args=[ticket.pk]), secure=True)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Why this owner" in html and "catch-all" in html
    assert account.external_id in html and "Recent events" in html


@pytest.mark.django_db
def test_agent_cannot_open_a_ticket_outside_their_queues(console_for, intake, make_queue, system):
    ticket = intake()
    agent = console_for("support")
    url = reverse("admin:routing_ticket_change", args=[ticket.pk])
    assert agent.get(url, secure=True).status_code in (302, 403, 404)
    services.queue_access_grant(queue=ticket.queue, user=agent.user, actor=system)
    assert agent.get(url, secure=True).status_code == 200


@pytest.mark.django_db
def test_agent_works_a_ticket_through_the_buttons(console_for, intake, system):
    ticket = intake()
    agent = console_for("support")
    services.queue_access_grant(queue=ticket.queue, user=agent.user, actor=system)
    press(agent, "take_ticket", ticket)
    press(agent, "solve_ticket", ticket, final_category="billing")
    ticket.refresh_from_db()
    assert ticket.owner == agent.user and ticket.status == "solved" and ticket.final_category == "billing"
    assert ticket.decisions.filter(kind="manual", decided_by=agent.user).exists()


@pytest.mark.django_db
def test_queue_list_and_board_show_age_percentiles(console_for, intake, triage_queue):
    intake()
    lead = console_for("ops_lead")
    listing = lead.get(reverse("admin:routing_queue_changelist"), secure=True).content.decode()
    assert "Age p50 (h)" in listing and "Age p99 (h)" in listing and "Past target" in listing
    board = lead.get(reverse("admin:routing_queue_board", args=[triage_queue.pk]), secure=True)
    assert board.status_code == 200
    html = board.content.decode()
    assert "p50" in html and "p90" in html and "p99" in html and "<svg" in html


@pytest.mark.django_db
def test_queue_list_costs_the_same_queries_however_many_queues(console_for, intake, make_queue):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    intake()
    lead = console_for("ops_lead")
    url = reverse("admin:routing_queue_changelist")

    def queries_for_list():
        with CaptureQueriesContext(connection) as captured:
            assert lead.get(url, secure=True).status_code == 200
        return len(captured)

    before = queries_for_list()
    for _ in range(5):
        make_queue()
    assert queries_for_list() == before


@pytest.mark.django_db
def test_backtest_page_shows_the_diff(
    console_for, make_queue, intake, system, django_capture_on_commit_callbacks
):
    billing = make_queue("billing")
    intake(subject="refund me")
    draft = services.rule_set_draft_create(actor=system)
    services.rule_save(
        rule_set=draft,
        actor=system,
        key="refunds",
        name="Refunds",
        priority=5,
        match="all",
        conditions=[{"field": "text", "op": "contains", "value": "refund"}],
        category="billing",
        severity="sev3",
        queue=billing,
    )
    lead = console_for("ops_lead")
    with django_capture_on_commit_callbacks(execute=True):
        response = lead.post(
            reverse("admin:routing_ruleset_act", args=[draft.pk]), {"action": "backtest"}, secure=True
        )
    assert response.status_code == 302
    html = lead.get(response["Location"], secure=True).content.decode()
    assert "Refunds" in html and "refund me" in html and "triage" in html and "billing" in html


@pytest.mark.django_db
def test_support_cannot_activate_rules_and_review_page_renders(console_for, system):
    draft = services.rule_set_draft_create(actor=system)
    response = console_for("support").post(
        reverse("admin:routing_ruleset_act", args=[draft.pk]), {"action": "activate"}, secure=True
    )
    assert response.status_code == 403
    review = console_for("ops_lead").get(reverse("admin:routing_rule_review"), secure=True)
    assert review.status_code == 200 and "Weekly rule review" in review.content.decode()


@pytest.mark.django_db
def test_rule_form_reports_a_bad_regex(console_for, system, triage_queue):
    draft = services.rule_set_draft_create(actor=system)
    response = console_for("ops_lead").post(
        reverse("admin:routing_routingrule_add"),
        {
            "rule_set": draft.pk,
            "key": "bad",
            "name": "Bad",
            "priority": 3,
            "enabled": "on",
            "match": "all",
            "conditions": '[{"field": "subject", "op": "matches", "value": "(oops"}]',
            "category": "billing",
            "severity": "sev3",
            "queue": triage_queue.pk,
        },
        secure=True,
    )
    assert response.status_code == 200
    assert "Bad regular expression" in response.content.decode()
    assert draft.rules.count() == 1


def _rule_form(rule, **changes):
    """The rule page's form as a person would submit it, with ``changes``."""
    form = {
        "rule_set": rule.rule_set_id,
        "key": rule.key,
        "name": rule.name,
        "priority": rule.priority,
        "match": rule.match,
        "conditions": json.dumps(rule.conditions),
        "category": rule.category,
        "severity": rule.severity,
        "queue": rule.queue_id,
        "owner": rule.owner_id or "",
        "sla_policy": rule.sla_policy_id or "",
        **({"enabled": "on"} if rule.enabled else {}),
        **({"page_oncall": "on"} if rule.page_oncall else {}),
    }
    form.update(changes)
    return {key: value for key, value in form.items() if value is not None}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("field", "changes", "message"),
    [
        ("enabled", {"enabled": None}, "The catch-all rule cannot be disabled."),
        ("owner", {"owner": "{agent}"}, "does not work the queue"),
    ],
)
def test_the_rule_form_shows_what_the_service_would_refuse(
    console_for, make_user, system, field, changes, message
):
    """The form asks the service's own checks, so each refusal is an error on its field."""
    draft = services.rule_set_draft_create(actor=system)
    catch_all = draft.rules.get(is_default=True)
    agent = make_user("support")  # works no queue
    changes = {k: agent.pk if v == "{agent}" else v for k, v in changes.items()}
    url = reverse("admin:routing_routingrule_change", args=[catch_all.pk])
    response = console_for("ops_lead").post(url, _rule_form(catch_all, **changes), secure=True)
    assert response.status_code == 200
    assert any(message in error for error in response.context["adminform"].form.errors[field])
    catch_all.refresh_from_db()
    assert catch_all.enabled and catch_all.owner_id is None and catch_all.revision == 1


@pytest.mark.django_db
def test_account_page_lists_the_tickets_the_user_may_see(console_for, make_account, intake, system):
    account = make_account()
    ticket = intake(subject="Where is my invoice", account_external_id=account.external_id)
    services.escalation_create(account=account, summary="Export crashes", actor=system)
    url = reverse("admin:accounts_account_change", args=[account.pk])
    lead_page = console_for("ops_lead").get(url, secure=True).content.decode()
    assert "Where is my invoice" in lead_page and "Export crashes" in lead_page
    support_page = console_for("support").get(url, secure=True).content.decode()
    assert "No tickets you can see." in support_page and str(ticket) not in support_page


@pytest.mark.django_db
def test_a_routing_decision_page_and_its_history_open(console_for, intake):
    decision = intake().decisions.get()
    lead = console_for("ops_lead")
    for name in ("admin:routing_routingdecision_change", "admin:routing_routingdecision_history"):
        page = lead.get(reverse(name, args=[decision.pk]), secure=True)
        assert page.status_code == 200, name


@pytest.mark.django_db
def test_ticket_list_opens_on_open_tickets_the_next_due_first(console_for, intake, make_user):
    later, sooner, solved = intake(subject="later"), intake(subject="sooner"), intake(subject="solved")
    now = timezone.now()
    for ticket, due in ((later, now + timedelta(hours=5)), (sooner, now - timedelta(hours=1))):
        Ticket.objects.filter(pk=ticket.pk).update(owner_due_at=due, owner_assigned_at=None)
    services.ticket_solve(ticket=solved, final_category="documentation", actor=make_user("ops_lead"))
    client = console_for("ops_lead")

    html = client.get(reverse("admin:routing_ticket_changelist"), secure=True).content.decode()
    rows = re.findall(r"/routing/ticket/(\d+)/change/", html)
    assert [int(pk) for pk in dict.fromkeys(rows)] == [sooner.pk, later.pk]
    assert "Open (default)" in html

    everything = client.get(reverse("admin:routing_ticket_changelist"), {"status": "all"}, secure=True)
    assert f"/routing/ticket/{solved.pk}/change/" in everything.content.decode()
