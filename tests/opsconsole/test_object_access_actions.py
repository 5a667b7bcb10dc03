"""Every registered guarded action, for every role and for people with no grants: on an object
the user may not see, its form, preview, run and API answer 404 (403 where the API is closed
to them) and show nothing of it; on an object they may see, the form opens (200) when their
role may run the action and is refused (403) when it may not. Never a 5xx.

Generated from the registry (``opsconsole.actions.registry``) and the world of
tests/opsconsole/access_world.py: an action added tomorrow is walked without a change here.
"""

import pytest
from django.apps import apps
from django.urls import reverse
from rest_framework.test import APIClient

from opsconsole import roles
from opsconsole.actions import targets
from opsconsole.actions.registry import all_actions
from tests.helpers.clients import logged_in
from tests.opsconsole.access_world import USERS, visible

pytestmark = pytest.mark.django_db

HIDDEN = {404}
# What the API answers an action on a visible target the role may run, before its own checks
# (a dry run, or a refusal of the empty parameters or of the target's state).
LET_IN = {200, 400, 409, 422}


def _form_url(action, obj) -> str:
    return reverse("admin:opsconsole_action_form", args=[action.name, obj._meta.model_name, obj.pk])


def _samples(action, user) -> tuple[object | None, object | None]:
    """One target of the action's model the user may not see, and one they may (None if none)."""
    model = apps.get_model(action.target_model)
    seen = visible(model, user)
    hidden = model._default_manager.exclude(pk__in=seen).order_by("pk").first()
    shown = model._default_manager.filter(pk__in=seen).order_by("pk").first()
    return hidden, shown


def _api(client, action, obj):
    public_id = targets.target_for(obj).public_id_of(obj)
    return client.post(
        f"/api/v1/actions/{action.name}/",
        {"target": public_id, "dry_run": True, "params": {}, "evidence": {}},
        format="json",
    )


@pytest.mark.parametrize("who", USERS)
def test_every_guarded_action_stays_inside_the_users_grants(world, who):
    user = world[who]
    console = logged_in(user)
    api = logged_in(user, client_class=APIClient)
    api_open = user.has_perm("opsconsole.view_actionrun")
    refused_hidden, opened, refused_role = set(), set(), set()

    for action in all_actions():
        may_run = user.has_perm(action.permission)
        hidden, shown = _samples(action, user)
        if hidden is not None:
            label = f"{who}: {action.name} on hidden {hidden._meta.label} #{hidden.pk}"
            url = _form_url(action, hidden)
            answers = {
                "form": console.get(url),
                "preview": console.post(url, {}),
                "run": console.post(url, {"preview_token": "forged"}),
            }
            for step, response in answers.items():
                assert response.status_code in HIDDEN, (label, step, response.status_code)
                assert str(hidden).encode() not in response.content, (label, step)
            response = _api(api, action, hidden)
            assert response.status_code == (404 if api_open else 403), (label, "api", response.status_code)
            assert str(hidden).encode() not in response.content, (label, "api")
            refused_hidden.add(action.name)
        if shown is not None:
            label = f"{who}: {action.name} on visible {shown._meta.label} #{shown.pk}"
            url = _form_url(action, shown)
            form = console.get(url)
            answered = _api(api, action, shown)
            api_answer = answered.status_code
            if may_run:
                assert form.status_code == 200, (label, form.status_code)
                # Let in: what follows is the action's own answer (a runbook may refuse it on
                # this case with a 403 of its own), never the refusal of the person.
                if api_answer == 403:
                    assert answered.json()["error"]["code"] != "action_not_permitted", label
                else:
                    assert api_answer in LET_IN, (label, "api", api_answer)
                opened.add(action.name)
            else:
                assert form.status_code == 403, (label, form.status_code)
                assert console.post(url, {}).status_code == 403, (label, "preview")
                assert console.post(url, {"preview_token": "forged"}).status_code == 403, (label, "run")
                assert api_answer == 403, (label, "api", api_answer)
                refused_role.add(action.name)

    registered = {action.name for action in all_actions()}
    runnable = {a.name for a in all_actions() if user.has_perm(a.permission)}
    # The world gives everyone something to see of every kind of target (the billing queue's
    # ticket; staff roles see every account, exception and known issue; the grantee its account).
    assert opened == runnable, f"{who}: forms never opened for {runnable - opened}"
    if who in roles.STAFF_ROLES:
        assert refused_role == registered - runnable
    if who == "nobody":
        assert refused_hidden == registered, f"nobody was never refused {registered - refused_hidden}"
    if who != "ops_lead":
        assert refused_hidden, f"{who} was refused no hidden target"


def test_the_walk_covers_every_action_and_both_answers(world):
    """Across the roles, every registered action was opened by someone and refused to someone."""
    names = {action.name for action in all_actions()}
    runners = {
        name for name in names if any(world[r].has_perm(f"opsconsole.run_{name}") for r in roles.STAFF_ROLES)
    }
    assert runners == names, f"no role may run {names - runners}"
    # Each kind of target has a row hidden from the no-grant user.
    for label in {action.target_model for action in all_actions()}:
        model = apps.get_model(label)
        assert model._default_manager.exclude(pk__in=visible(model, world["nobody"])).exists(), label
