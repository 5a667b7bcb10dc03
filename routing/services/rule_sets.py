"""Rule sets and their rules: a draft copied from a set, its rules created, changed and removed
(each validated as the engine will compile it), and a draft activated in place of the active set."""

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone

from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service
from routing import engine
from routing.choices import RuleSetStatus
from routing.models import RoutingRule, RuleSet
from routing.selectors.setup import active_rule_set, rule_errors, rule_specs


def _locked_draft(rule_set: RuleSet) -> RuleSet:
    rule_set = RuleSet.objects.select_for_update().get(pk=rule_set.pk)
    if rule_set.status != RuleSetStatus.DRAFT:
        raise Conflict(
            "rule_set_not_draft",
            f"Rule set v{rule_set.version} is {rule_set.status}; copy it to a draft to change it.",
        )
    return rule_set


def _bump(rule_set: RuleSet) -> None:
    rule_set.revision += 1
    rule_set.save(update_fields=["revision"])


@service
def rule_set_draft_create(*, based_on: RuleSet | None = None, note: str = "", actor) -> RuleSet:
    """A new draft holding a copy of ``based_on``'s rules (the active set by default)."""
    source = based_on or active_rule_set()
    version = (RuleSet.objects.aggregate(v=Max("version"))["v"] or 0) + 1
    try:
        with transaction.atomic():
            draft = RuleSet.objects.create(version=version, note=note, based_on=source)
    except IntegrityError as exc:
        raise Conflict(
            "rule_set_version_taken", "Another draft was created at the same moment; retry."
        ) from exc
    for rule in source.rules.order_by("priority"):
        rule.pk = None
        rule.id = None
        rule.rule_set = draft
        rule.revision = 1
        rule._state.adding = True
        rule.save()
    return draft


RULE_FIELDS = (
    "key",
    "name",
    "priority",
    "enabled",
    "match",
    "conditions",
    "category",
    "severity",
    "queue",
    "owner",
    "sla_policy",
    "page_oncall",
    "ticket_type",
)


@service
def rule_save(*, rule_set: RuleSet, rule: RoutingRule | None = None, actor, **values) -> RoutingRule:
    """Create or change a rule of a draft. The rule is validated as the engine will compile it."""
    unknown = set(values) - set(RULE_FIELDS)
    if unknown:
        raise ValidationFailed("unknown_rule_fields", f"Unknown rule fields: {', '.join(sorted(unknown))}.")
    rule_set = _locked_draft(rule_set)
    if rule is None:
        rule = RoutingRule(rule_set=rule_set)
    else:
        rule = RoutingRule.objects.select_for_update().get(pk=rule.pk, rule_set=rule_set)
        rule.revision += 1
    for name, value in values.items():
        setattr(rule, name, value)
    errors = rule_errors(rule)
    if errors:
        raise ValidationFailed("invalid_rule", "The rule is not valid; see details.", errors)
    try:
        with transaction.atomic():
            rule.save()
    except IntegrityError as exc:
        raise ValidationFailed(
            "rule_clash",
            "Another rule of this set has the same priority or key.",
            {"priority": rule.priority, "key": rule.key},
        ) from exc
    _bump(rule_set)
    return rule


@service
def rule_delete(*, rule: RoutingRule, actor) -> None:
    rule_set = _locked_draft(rule.rule_set)
    rule = RoutingRule.objects.select_for_update().get(pk=rule.pk)
    if rule.is_default:
        raise Conflict("default_rule_required", "The catch-all rule cannot be removed; change it instead.")
    rule.delete()
    _bump(rule_set)


@service
def rule_set_activate(*, rule_set: RuleSet, actor) -> RuleSet:
    """Make a draft the rule set intake uses; the previously active set is retired."""
    rule_set = _locked_draft(rule_set)
    try:
        engine.compile_rules(rule_specs(rule_set), version=rule_set.version, revision=rule_set.revision)
    except engine.RuleInvalid as exc:
        raise ValidationFailed("invalid_rule_set", str(exc), exc.errors) from exc
    for current in RuleSet.objects.select_for_update().filter(status=RuleSetStatus.ACTIVE):
        current.status = RuleSetStatus.RETIRED
        current.save(update_fields=["status"])
    rule_set.status = RuleSetStatus.ACTIVE
    rule_set.activated_at = timezone.now()
    rule_set.save(update_fields=["status", "activated_at"])
    return rule_set
