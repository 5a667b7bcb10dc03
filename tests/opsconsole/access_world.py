"""The world the generated object-access tests walk, and who may see what in it.

Two queues (billing, defects) with a ticket each (and so a routing decision each), an
escalation from the defect ticket, an SLA breach on each, two accounts with events, steps, a
failed import (an open exception) each, a Stripe event and a drift each, and a known issue.
Staff of every role work the billing queue only; "grantee" holds a guardian grant on the first
account and no role; "nobody" is staff with nothing. What a user may see is what
``Model.objects.restrict(user)`` returns (the rule under test in
tests/opsconsole/test_restrict.py); every page, action and export must stay inside it.

tests/opsconsole/conftest.py offers the fixture (with the routing fixtures it needs) to every
test there.
"""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from guardian.shortcuts import assign_perm

from accounts.models import BillingDrift
from opsconsole import roles
from routing import services as routing_services
from routing.models import SlaBreach
from routing.support.services.known_issues import known_issue_create
from tests.helpers.billing import stored_stripe_event

USERS = [*roles.STAFF_ROLES, "nobody", "grantee"]
REFUSED = {302, 403, 404}


@pytest.fixture
def world(make_queue, activate_rules, intake, make_account, make_user, system, fail_import):
    billing_q, defects_q = make_queue("billing"), make_queue("defects")
    activate_rules(
        [
            {
                "key": "b",
                "queue": billing_q,
                "conditions": [{"field": "text", "op": "contains", "value": "invoice"}],
            },
            {
                "key": "d",
                "queue": defects_q,
                "conditions": [{"field": "text", "op": "contains", "value": "bug"}],
            },
        ]
    )
    first, second = make_account(), make_account()
    invoice = intake(
        subject="Invoice wrong", body="secret billing words", account_external_id=first.external_id
    )
    bug = intake(subject="A bug", body="secret defect words", account_external_id=second.external_id)
    routing_services.ticket_escalate(ticket=bug, summary="defect", actor=make_user("ops_lead"))
    for ticket in (invoice, bug):
        SlaBreach.objects.create(
            ticket=ticket,
            target="first_response",
            due_at=timezone.now() - timedelta(hours=1),
            detected_at=timezone.now(),
            queue=ticket.queue,
        )
    for n, account in enumerate((first, second)):
        event = stored_stripe_event(f"evt_{n}", "invoice.paid", {"id": f"in_{n}"})
        event.account = account
        event.save()
        BillingDrift.objects.create(
            system="stripe",
            kind="plan_mismatch",
            subject=f"sub_{n}",
            account=account,
            theirs={"plan": "team", "subscription": f"sub_{n}"},
            opened_at=timezone.now(),
            last_seen_at=timezone.now(),
        )
    for account in (first, second):
        fail_import(account)
    people = {role: make_user(role) for role in roles.STAFF_ROLES}
    known_issue_create(title="Secret known issue", customer_message="secret words", actor=people["ops_lead"])
    people["nobody"] = make_user(None)
    people["grantee"] = make_user(None)
    User = get_user_model()
    User.objects.filter(pk__in=[people["nobody"].pk, people["grantee"].pk]).update(is_staff=True)
    assign_perm("accounts.view_account", people["grantee"], first)
    for role in roles.STAFF_ROLES:
        routing_services.queue_access_grant(queue=billing_q, user=people[role], actor=system)
    return {name: User.objects.get(pk=user.pk) for name, user in people.items()}


def visible(model, user) -> set:
    """The primary keys of ``model`` that ``user`` may see."""
    manager = model._default_manager
    if model._meta.proxy:
        # Proxies (sign-in's staff and lockouts) choose their rows in their admin; trust the
        # model permission only: without it, nothing may show.
        opts = model._meta
        if user.has_perm(f"{opts.app_label}.view_{opts.model_name}"):
            return set(manager.values_list("pk", flat=True))
        return set()
    if hasattr(manager.all(), "restrict"):
        return set(manager.restrict(user, "view").values_list("pk", flat=True))
    opts = model._meta
    everything = set(manager.values_list("pk", flat=True))
    return everything if user.has_perm(f"{opts.app_label}.view_{opts.model_name}") else set()
