import pytest

from opsconsole.errors import Conflict, ValidationFailed
from routing import selectors, services
from routing.choices import RuleSetStatus
from routing.models import BusinessCalendar, Holiday, RoutingDecision, RuleSet, SlaPolicy


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def save_rule(draft, actor, queue, **overrides):
    values = {
        "key": "k",
        "name": "K",
        "priority": 1,
        "match": "all",
        "conditions": [cond("plan", "eq", "team")],
        "category": "billing",
        "severity": "sev3",
        "queue": queue,
    }
    return services.rule_save(rule_set=draft, actor=actor, **{**values, **overrides})


@pytest.mark.django_db
def test_rules_route_intake_in_priority_order_with_audit(activate_rules, make_queue, intake, make_account):
    billing, sso = make_queue("billing"), make_queue("sso")
    rule_set = activate_rules(
        [
            {
                "key": "payment",
                "queue": billing,
                "category": "billing",
                "severity": "sev2",
                "conditions": [cond("text", "contains", "payment")],
            },
            {
                "key": "login",
                "queue": sso,
                "category": "authentication",
                "conditions": [cond("text", "matches", r"\b(sso|login)\b")],
            },
        ]
    )
    account = make_account()
    ticket = intake(subject="Payment failed after login", account_external_id=account.external_id)
    assert (ticket.queue, ticket.category, ticket.severity) == (billing, "billing", "sev2")
    decision = RoutingDecision.objects.get(ticket=ticket)
    assert decision.rule_key == "payment" and decision.rule_set_version == rule_set.version
    assert decision.triggers == [
        {"field": "text", "op": "contains", "value": "payment", "actual": "Payment failed after login\n"}
    ]
    assert intake(subject="SSO loop").queue == sso


@pytest.mark.django_db
@pytest.mark.parametrize(
    "conditions,detail",
    [
        ([cond("mood", "eq", "angry")], "conditions.0"),
        ([cond("plan", "approx", "team")], "conditions.0"),
        ([cond("subject", "matches", "([a-z]+")], "conditions.0"),
        ([cond("subject", "matches", "a" * 500)], "conditions.0"),
        ([], "conditions"),
    ],
)
def test_saving_a_bad_rule_is_a_clear_error_and_changes_nothing(system, triage_queue, conditions, detail):
    draft = services.rule_set_draft_create(actor=system)
    with pytest.raises(ValidationFailed) as info:
        save_rule(draft, system, triage_queue, conditions=conditions)
    assert info.value.code == "invalid_rule" and detail in info.value.extra
    assert draft.rules.count() == 1  # only the copied catch-all


@pytest.mark.django_db
def test_bad_outputs_are_refused(system, triage_queue):
    draft = services.rule_set_draft_create(actor=system)
    with pytest.raises(ValidationFailed) as info:
        save_rule(draft, system, triage_queue, category="gossip", severity="sev9")
    assert {"category", "severity"} <= set(info.value.extra)


@pytest.mark.django_db
def test_catch_all_cannot_be_removed_disabled_or_given_conditions(system):
    draft = services.rule_set_draft_create(actor=system)
    default = draft.rules.get(is_default=True)
    with pytest.raises(Conflict):
        services.rule_delete(rule=default, actor=system)
    with pytest.raises(ValidationFailed):
        services.rule_save(rule_set=draft, rule=default, enabled=False, actor=system)
    with pytest.raises(ValidationFailed):
        services.rule_save(rule_set=draft, rule=default, conditions=[cond("plan", "eq", "x")], actor=system)
    assert draft.rules.filter(is_default=True, enabled=True, conditions=[]).count() == 1


@pytest.mark.django_db
def test_priority_clash_is_a_validation_error(system, triage_queue):
    draft = services.rule_set_draft_create(actor=system)
    save_rule(draft, system, triage_queue, key="a", priority=5)
    with pytest.raises(ValidationFailed) as info:
        save_rule(draft, system, triage_queue, key="b", priority=5)
    assert info.value.code == "rule_clash"


@pytest.mark.django_db
def test_active_rules_are_frozen_and_activation_retires_the_old_set(system, triage_queue):
    old = selectors.active_rule_set()
    with pytest.raises(Conflict):
        services.rule_save(rule_set=old, rule=old.rules.first(), name="Edited live", actor=system)
    draft = services.rule_set_draft_create(actor=system)
    services.rule_set_activate(rule_set=draft, actor=system)
    old.refresh_from_db()
    assert old.status == RuleSetStatus.RETIRED and selectors.active_rule_set() == draft
    assert RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).count() == 1


@pytest.mark.django_db
def test_compiled_rules_follow_the_revision_stored_in_the_database(system, triage_queue):
    draft = services.rule_set_draft_create(actor=system)
    first = selectors.compiled_rules(RuleSet.objects.get(pk=draft.pk))
    assert selectors.compiled_rules(RuleSet.objects.get(pk=draft.pk)) is first  # compiled once
    save_rule(draft, system, triage_queue, key="new")
    second = selectors.compiled_rules(RuleSet.objects.get(pk=draft.pk))
    assert second is not first and [r.spec.key for r in second.rules] == ["new", "catch-all"]


@pytest.mark.django_db
def test_rule_changes_are_versioned_in_history(system, triage_queue):
    draft = services.rule_set_draft_create(actor=system)
    rule = save_rule(draft, system, triage_queue, name="First")
    services.rule_save(rule_set=draft, rule=rule, name="Second", actor=system)
    rule.refresh_from_db()
    assert rule.revision == 2
    assert [h.name for h in rule.history.order_by("history_date")] == ["First", "Second"]
    assert rule.history.first().history_user == system


@pytest.mark.django_db
def test_routing_setup_is_rebuilt_when_a_queue_policy_or_holiday_changes(triage_queue):
    from datetime import date

    first = selectors.routing_setup()
    assert selectors.routing_setup() is first  # built once per version
    triage_queue.pager_webhook_url = "http://127.0.0.1:9/pager"
    triage_queue.save()  # as the admin page saves it
    second = selectors.routing_setup()
    assert second is not first
    assert second.queues[triage_queue.pk].pager_webhook_url == "http://127.0.0.1:9/pager"
    policy = SlaPolicy.objects.get(name="sev4 general")
    policy.owner_minutes = 1
    policy.save()
    third = selectors.routing_setup()
    assert next(p for p in third.policies if p.pk == policy.pk).owner_minutes == 1
    calendar = BusinessCalendar.objects.get(name="Business hours (UTC)")
    Holiday.objects.create(calendar=calendar, date=date(2027, 1, 1), name="New Year")
    assert date(2027, 1, 1) in selectors.routing_setup().calendars[calendar.pk].holidays
