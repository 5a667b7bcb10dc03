"""What routing routes with: the active rule set compiled, and the queues, SLA policies and
business-hours clocks its rules point at, each built at most once per version in a process."""

from collections import OrderedDict, defaultdict
from dataclasses import dataclass

from django.db.models import Subquery

from opsconsole.errors import ValidationFailed
from routing import engine
from routing.choices import Category, RuleSetStatus, Severity
from routing.models import BusinessCalendar, Holiday, Queue, RoutingRule, RuleSet, SlaPolicy
from routing.rules import choose_policy
from routing.sla import ALWAYS_OPEN, CalendarSpec

# Keyed by (rule set id, revision): a key names one exact content, so an entry can never go
# stale, and every process fills its own copy at most once per revision.
_COMPILED: OrderedDict[tuple[int, int], engine.CompiledRuleSet] = OrderedDict()
_COMPILED_KEEP = 16


def rule_specs(rule_set: RuleSet) -> list[engine.RuleSpec]:
    rules = rule_set.rules.filter(enabled=True).select_related("queue", "owner", "sla_policy")
    return [
        engine.RuleSpec(
            id=r.pk,
            key=r.key,
            name=r.name,
            priority=r.priority,
            match=r.match,
            conditions=r.conditions,
            is_default=r.is_default,
            revision=r.revision,
            outputs={
                "category": r.category,
                "severity": r.severity,
                "queue_id": r.queue_id,
                "queue": r.queue.code,
                "owner_id": r.owner_id,
                "owner": r.owner.get_username() if r.owner else None,
                "sla_policy_id": r.sla_policy_id,
                "page_oncall": r.page_oncall,
                "ticket_type": r.ticket_type,
            },
        )
        for r in rules
    ]


def rule_errors(rule: RoutingRule) -> dict[str, str]:
    """What is wrong with a rule, by field, as the engine will compile it and its queue will take
    it; empty when nothing is. An error of the n-th condition is keyed ``conditions.n``."""
    errors = {}
    if rule.category not in Category.values:
        errors["category"] = f"Unknown category {rule.category!r}."
    if rule.severity not in Severity.values:
        errors["severity"] = f"Unknown severity {rule.severity!r}."
    if not rule.key or not rule.name:
        errors["key"] = "A rule needs a key and a name."
    if rule.queue_id is None:
        errors["queue"] = "A rule sends tickets to a queue."
    if rule.is_default and not rule.enabled:
        errors["enabled"] = "The catch-all rule cannot be disabled."
    if (
        rule.owner_id is not None
        and rule.queue_id is not None
        and not Queue.objects.allows(rule.owner, rule.queue, "change")
    ):
        errors["owner"] = f"{rule.owner.get_username()} does not work the queue {rule.queue.code!r}."
    try:
        engine.validate_rule(match=rule.match, conditions=rule.conditions, is_default=rule.is_default)
    except engine.RuleInvalid as exc:
        errors.update({f"conditions.{k}" if k.isdigit() else k: v for k, v in exc.errors.items()})
    return errors


def compiled_rules(rule_set: RuleSet) -> engine.CompiledRuleSet:
    key = (rule_set.pk, rule_set.revision)
    compiled = _COMPILED.get(key)
    if compiled is None:
        compiled = engine.compile_rules(
            rule_specs(rule_set), version=rule_set.version, revision=rule_set.revision
        )
        _COMPILED[key] = compiled
        while len(_COMPILED) > _COMPILED_KEEP:
            _COMPILED.popitem(last=False)
    return compiled


def active_rule_set() -> RuleSet:
    rule_set = RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).first()
    if rule_set is None:
        raise ValidationFailed("no_active_rule_set", "No routing rule set is active.")
    return rule_set


@dataclass(frozen=True)
class RoutingSetup:
    """What intake routes with: the compiled active rules and the queues, SLA policies and
    calendars they point at, read once per version of any of them."""

    rule_set: RuleSet
    rules: engine.CompiledRuleSet
    queues: dict[int, Queue]
    policies: tuple[SlaPolicy, ...]
    calendars: dict[int, CalendarSpec]

    def policy_for(
        self,
        *,
        policy_id: int | None,
        severity: str,
        shape: str | None,
        channel_code: str | None,
        via: str | None = None,
    ):
        if policy_id is not None:
            return next(p for p in self.policies if p.pk == policy_id)
        return choose_policy(
            self.policies, severity=severity, shape=shape, channel_code=channel_code, via=via
        )

    def clock_for(self, policy: SlaPolicy) -> CalendarSpec:
        """The clock a policy runs on: its calendar's working hours, or around the clock."""
        return self.calendars[policy.calendar_id] if policy.business_hours else ALWAYS_OPEN


# Each change to a queue, policy, calendar or holiday writes a history row, so the newest
# history id of each table is a version the database keeps for free.
# (``Model.history`` builds a manager class on every access, so the history models are named once.)
_SETUP_VERSIONED = {
    "queues": Queue.history.model,
    "policies": SlaPolicy.history.model,
    "calendars": BusinessCalendar.history.model,
    "holidays": Holiday.history.model,
}
_SETUPS: OrderedDict[tuple, RoutingSetup] = OrderedDict()


def routing_setup() -> RoutingSetup:
    """The active routing setup in one query, built at most once per version in each process."""
    versions = {
        name: Subquery(history.objects.order_by("-history_id").values("history_id")[:1])
        for name, history in _SETUP_VERSIONED.items()
    }
    rule_set = RuleSet.objects.filter(status=RuleSetStatus.ACTIVE).annotate(**versions).first()
    if rule_set is None:
        raise ValidationFailed("no_active_rule_set", "No routing rule set is active.")
    key = (rule_set.pk, rule_set.revision, *(getattr(rule_set, name) for name in _SETUP_VERSIONED))
    setup = _SETUPS.get(key)
    if setup is None:
        holidays = defaultdict(set)
        for calendar_id, day in Holiday.objects.values_list("calendar_id", "date"):
            holidays[calendar_id].add(day)
        setup = RoutingSetup(
            rule_set=rule_set,
            rules=compiled_rules(rule_set),
            queues={q.pk: q for q in Queue.objects.all()},
            policies=tuple(SlaPolicy.objects.select_related("channel", "calendar")),
            calendars={
                c.pk: CalendarSpec(
                    timezone=c.timezone,
                    weekdays=frozenset(c.weekdays),
                    day_start=c.day_start,
                    day_end=c.day_end,
                    holidays=frozenset(holidays[c.pk]),
                )
                for c in BusinessCalendar.objects.all()
            },
        )
        _SETUPS[key] = setup
        while len(_SETUPS) > _COMPILED_KEEP:
            _SETUPS.popitem(last=False)
    return setup


def policy_clock(policy: SlaPolicy) -> CalendarSpec:
    """The clock a policy runs on, from the routing setup: the one place a clock is built, and
    rebuilt whenever a calendar or holiday changes."""
    return routing_setup().clock_for(policy)


def sla_policy_for(
    *, severity: str, shape: str | None, channel_code: str | None, via: str | None = None
) -> SlaPolicy | None:
    """The most specific policy for a severity (``rules.choose_policy``)."""
    policies = SlaPolicy.objects.filter(severity=severity).select_related("channel", "calendar")
    return choose_policy(policies, severity=severity, shape=shape, channel_code=channel_code, via=via)
