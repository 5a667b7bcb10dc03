"""Object access everywhere, generated: every registered admin model and every API endpoint,
for every role and for people with no grants, refuses the objects outside their grants.

The world: two queues (billing, defects) with a ticket each (and so a routing decision each), an
escalation from the defect ticket, an SLA breach on each, two accounts with events, steps,
exceptions, a Stripe event and a drift each. Staff of every role work the billing queue only;
"grantee" holds a guardian grant on one account and no role; "nobody" is staff with nothing.
What a user may see is what ``Model.objects.restrict(user)`` returns (the rule under test in
tests/opsconsole/test_restrict.py); here every page must stay inside it.
"""

from datetime import timedelta

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import timezone
from guardian.shortcuts import assign_perm
from rest_framework.test import APIClient

from accounts.models import Account, BillingDrift, OpsException, StripeEvent
from opsconsole import roles
from opsconsole.api.scopes import endpoints
from routing import services as routing_services
from routing.models import Escalation, RoutingDecision, SlaBreach, Ticket
from tests.helpers.billing import stored_stripe_event
from tests.helpers.clients import logged_in
from tests.routing.conftest import activate_rules, intake, make_queue  # noqa: F401  (fixtures)

pytestmark = pytest.mark.django_db

HIDDEN_SAMPLES = 3
REFUSED = {302, 403, 404}


@pytest.fixture
def world(make_queue, activate_rules, intake, make_account, make_user, system):  # noqa: F811
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
    people = {role: make_user(role) for role in roles.STAFF_ROLES}
    people["nobody"] = make_user(None)
    people["grantee"] = make_user(None)
    User = get_user_model()
    User.objects.filter(pk__in=[people["nobody"].pk, people["grantee"].pk]).update(is_staff=True)
    assign_perm("accounts.view_account", people["grantee"], first)
    for role in roles.STAFF_ROLES:
        routing_services.queue_access_grant(queue=billing_q, user=people[role], actor=system)
    return {name: User.objects.get(pk=user.pk) for name, user in people.items()}


def _visible(model, user) -> set:
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


def _listed(response) -> set | None:
    if response.status_code != 200 or response.context is None or "cl" not in response.context:
        return None
    return {obj.pk for obj in response.context["cl"].result_list}


def _admin_url(model, name, *args):
    opts = model._meta
    return reverse(f"admin:{opts.app_label}_{opts.model_name}_{name}", args=args)


USERS = [*roles.STAFF_ROLES, "nobody", "grantee"]


@pytest.mark.parametrize("who", USERS)
def test_every_admin_page_stays_inside_the_users_grants(world, who):
    user = world[who]
    client = logged_in(user)
    checked = 0
    for model, model_admin in admin.site._registry.items():
        everything = set(model._default_manager.values_list("pk", flat=True))
        visible = _visible(model, user)
        hidden = sorted(everything - visible, key=str)[:HIDDEN_SAMPLES]
        changelist = _admin_url(model, "changelist")
        label = f"{who} on {model._meta.label}"

        listed = _listed(client.get(changelist))
        if listed is not None:
            assert listed <= visible, f"{label}: list shows {listed - visible}"
        if model_admin.search_fields:
            listed = _listed(client.get(changelist, {"q": "secret"}))
            assert listed is None or listed <= visible, f"{label}: search leaks"
        if hidden:
            filtered = _listed(client.get(changelist, {"pk__in": ",".join(str(pk) for pk in hidden)}))
            assert not filtered, f"{label}: filter by id shows hidden rows {filtered}"
        for pk in hidden:
            for view in ("change", "history"):
                try:
                    url = _admin_url(model, view, pk)
                except Exception:  # noqa: BLE001  (this admin has no such page)
                    continue
                status = client.get(url).status_code
                assert status in REFUSED, f"{label}: {view} of hidden #{pk} answered {status}"
                checked += 1
    if who != "ops_lead":
        assert checked, f"{who} was refused nothing: the world has no hidden rows for them"


@pytest.mark.parametrize("who", ["support", "engineering", "leadership", "nobody"])
def test_billing_records_are_not_readable_outside_billing(world, who):
    client = logged_in(world[who])
    for model in (BillingDrift, StripeEvent):
        assert client.get(_admin_url(model, "changelist")).status_code in REFUSED
        for pk in model.objects.values_list("pk", flat=True):
            assert client.get(_admin_url(model, "change", pk)).status_code in REFUSED
            assert client.get(_admin_url(model, "history", pk)).status_code in REFUSED


@pytest.mark.parametrize("who", ["billing", "ops_lead"])
def test_billing_and_ops_leads_read_billing_records(world, who):
    client = logged_in(world[who])
    drift = BillingDrift.objects.first()
    assert client.get(_admin_url(BillingDrift, "change", drift.pk)).status_code == 200


def test_support_is_refused_the_decision_breach_and_escalation_of_a_ticket_outside_their_queues(world):
    client = logged_in(world["support"])
    bug = Ticket.objects.get(subject="A bug")
    for model, obj in [
        (Ticket, bug),
        (RoutingDecision, RoutingDecision.objects.filter(ticket=bug).first()),
        (SlaBreach, SlaBreach.objects.get(ticket=bug)),
        (Escalation, Escalation.objects.get(ticket=bug)),
    ]:
        for view in ("change", "history"):
            response = client.get(_admin_url(model, view, obj.pk))
            assert response.status_code in REFUSED, (model, view)
            assert b"secret defect words" not in response.content


@pytest.mark.parametrize("who", USERS)
def test_action_forms_refuse_targets_outside_the_grants(world, who):
    client = logged_in(world[who])
    bug = Ticket.objects.get(subject="A bug")
    exceptions = OpsException.objects.all()
    targets = [("take_ticket", "ticket", bug.pk)] if who != "ops_lead" else []
    visible_exceptions = _visible(OpsException, world[who])
    targets += [
        ("resolve_exception", "opsexception", e.pk) for e in exceptions if e.pk not in visible_exceptions
    ]
    for name, model_name, pk in targets:
        url = reverse("admin:opsconsole_action_form", args=[name, model_name, pk])
        assert client.get(url).status_code in REFUSED, (who, name, pk)


def _api_path(endpoint, account) -> str | None:
    path = endpoint.path.replace("<str:external_id>", account.external_id)
    if "<" in path:
        return None
    return "/" + path


@pytest.mark.parametrize("who", [*roles.ALL_ROLES, "nobody", "grantee"])
def test_every_api_endpoint_refuses_what_the_grants_do_not_cover(world, who, api_client_for, make_account):
    hidden_account = make_account()
    if who in roles.SERVICE_ROLES:
        client = api_client_for(who)
        user = client.token.user
    else:
        user = world[who]
        client = logged_in(user, client_class=APIClient)
    for endpoint in endpoints():
        if endpoint.method != "GET":
            continue
        path = _api_path(endpoint, hidden_account)
        if path is None:
            continue
        response = client.get(path)
        allowed = all(user.has_perm(p) for p in endpoint.permissions)
        if "external_id" in endpoint.path:
            allowed = allowed and Account.objects.allows(user, hidden_account)
        if allowed:
            # 400: let in, then asked for its query parameters (the reports need a window).
            assert response.status_code in {200, 400}, (who, path, response.status_code)
        else:
            assert response.status_code in {401, 403, 404}, (who, path, response.status_code)
            assert hidden_account.name.encode() not in response.content
