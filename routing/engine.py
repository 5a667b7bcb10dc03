"""The routing engine: a pure function of (compiled rules, context).

Rules are validated and compiled once per rule-set revision into plain closures; routing a
ticket walks them in priority order and the first match wins. Nothing here touches the
database, so the engine is easy to test and fast (see bench/routing_engine.py).

Strings compare case-insensitively: the context is case-folded once per ticket, and so are
the values in the rules.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

STR, NUM, BOOL, LIST = "str", "num", "bool", "list"

# Every field a rule may test, and its kind. Intake builds a context with these keys.
CONTEXT_FIELDS: dict[str, str] = {
    # the ticket
    "source": STR,
    "subject": STR,
    "body": STR,
    "text": STR,  # subject and body together
    "requester_email": STR,
    "requester_domain": STR,
    "error_code": STR,
    "request_id": STR,
    "feature_area": STR,
    "via": STR,
    # the account, when one matched
    "account_matched": BOOL,
    "account_external_id": STR,
    "plan": STR,
    "paid": BOOL,
    "shape": STR,
    "channel": STR,
    "channel_kind": STR,
    "channel_sla_minutes": NUM,
    "lifecycle_stage": STR,
    "account_owner": STR,
    "billing_status": STR,
    "arr_cents": NUM,
    "account_age_days": NUM,
    "provisioning_status": STR,
    "last_failed_event": STR,
    "last_failed_error_code": STR,
    "last_success_event": STR,
    "recent_event_types": LIST,
    "open_exception_codes": LIST,
    "open_exception_count": NUM,
    "failed_attempts": NUM,
}

OPERATORS: dict[str, frozenset[str]] = {
    "eq": frozenset({STR, NUM, BOOL}),
    "in": frozenset({STR, NUM, LIST}),
    "not_in": frozenset({STR, NUM, LIST}),
    "gte": frozenset({NUM}),
    "lte": frozenset({NUM}),
    "contains": frozenset({STR, LIST}),
    "matches": frozenset({STR}),
}

MAX_REGEX_LENGTH = 200
MAX_CONDITIONS = 20
MAX_IN_VALUES = 200
# Regexes run on at most this much text, which bounds the time a pathological pattern takes.
MAX_MATCH_TEXT = 20_000


class RuleInvalid(Exception):
    """A rule that would not compile; ``errors`` maps a condition index (or "rule") to a message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _fold(value):
    return value.casefold() if isinstance(value, str) else value


def _is_number(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


_SCALAR_CHECK: dict[str, Callable[[Any], bool]] = {
    STR: lambda v: isinstance(v, str),
    NUM: _is_number,
    BOOL: lambda v: isinstance(v, bool),
}


def validate_condition(condition: Any) -> str | None:
    """The problem with one condition, in words, or None when it is sound."""
    if not isinstance(condition, dict) or set(condition) != {"field", "op", "value"}:
        return 'A condition is {"field": ..., "op": ..., "value": ...} and nothing else.'
    name, op, value = condition["field"], condition["op"], condition["value"]
    kind = CONTEXT_FIELDS.get(name)
    if kind is None:
        return f"Unknown field {name!r}; known fields: {', '.join(sorted(CONTEXT_FIELDS))}."
    if op not in OPERATORS:
        return f"Unknown operator {op!r}; use one of {', '.join(OPERATORS)}."
    if kind not in OPERATORS[op]:
        return f"Operator {op!r} does not apply to {name!r} (a {kind} field)."
    element_kind = STR if kind == LIST else kind
    if op in ("in", "not_in"):
        if not isinstance(value, list) or not value:
            return f"{op!r} needs a non-empty list of values."
        if len(value) > MAX_IN_VALUES:
            return f"{op!r} takes at most {MAX_IN_VALUES} values."
        if not all(_SCALAR_CHECK[element_kind](v) for v in value):
            return f"Every value of {op!r} on {name!r} must be a {element_kind}."
        return None
    if op == "matches":
        if not isinstance(value, str) or not value:
            return "'matches' needs a regular expression."
        if len(value) > MAX_REGEX_LENGTH:
            return f"The regular expression is longer than {MAX_REGEX_LENGTH} characters."
        try:
            re.compile(value)
        except re.error as exc:
            return f"Bad regular expression: {exc}."
        return None
    if not _SCALAR_CHECK[element_kind](value):
        return f"{op!r} on {name!r} needs a {element_kind} value."
    return None


def validate_rule(*, match: str, conditions: Any, is_default: bool) -> None:
    """Raise RuleInvalid unless the rule compiles."""
    errors: dict[str, str] = {}
    if match not in ("all", "any"):
        errors["match"] = f"Combine conditions with 'all' or 'any', not {match!r}."
    if not isinstance(conditions, list):
        raise RuleInvalid({"conditions": "Conditions are a list."})
    if is_default and conditions:
        errors["conditions"] = "The catch-all rule has no conditions: it matches every ticket."
    if not is_default and not conditions:
        errors["conditions"] = "Only the catch-all rule may have no conditions."
    if len(conditions) > MAX_CONDITIONS:
        errors["conditions"] = f"At most {MAX_CONDITIONS} conditions per rule."
    for index, condition in enumerate(conditions):
        problem = validate_condition(condition)
        if problem:
            errors[str(index)] = problem
    if errors:
        raise RuleInvalid(errors)


# --- Compiling -------------------------------------------------------------------------------


def _predicate(name: str, op: str, value) -> Callable[[dict], bool]:
    """One condition as a closure over the case-folded context."""
    kind = CONTEXT_FIELDS[name]
    if op == "eq":
        wanted = _fold(value)
        return lambda c: c.get(name) == wanted
    if op in ("in", "not_in"):
        wanted_set = frozenset(_fold(v) for v in value)
        if kind == LIST:
            if op == "in":
                return lambda c: not wanted_set.isdisjoint(c.get(name) or ())
            return lambda c: wanted_set.isdisjoint(c.get(name) or ())
        if op == "in":
            return lambda c: c.get(name) in wanted_set
        return lambda c: c.get(name) not in wanted_set
    if op == "gte":
        return lambda c: (v := c.get(name)) is not None and v >= value
    if op == "lte":
        return lambda c: (v := c.get(name)) is not None and v <= value
    if op == "contains":
        needle = _fold(value)
        if kind == LIST:
            return lambda c: needle in (c.get(name) or ())
        return lambda c: (v := c.get(name)) is not None and needle in v
    if op == "matches":
        search = re.compile(value, re.IGNORECASE).search
        return lambda c: (v := c.get(name)) is not None and search(v) is not None
    raise RuleInvalid({"op": f"Unknown operator {op!r}."})


@dataclass(frozen=True)
class RuleSpec:
    """A rule as plain data: what the engine compiles. ``outputs`` is carried through."""

    id: int
    key: str
    name: str
    priority: int
    match: str
    conditions: list
    is_default: bool = False
    revision: int = 1
    outputs: dict = field(default_factory=dict)


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    predicates: tuple[Callable[[dict], bool], ...]
    match_all: bool

    def test(self, folded: dict) -> bool:
        # Plain loops: all()/any() over a generator cost about a third more on the hot path.
        if self.match_all:
            for predicate in self.predicates:  # noqa: SIM110
                if not predicate(folded):
                    return False
            return True
        for predicate in self.predicates:
            if predicate(folded):
                return True
        return not self.predicates


@dataclass(frozen=True)
class CompiledRuleSet:
    version: int
    revision: int
    rules: tuple[CompiledRule, ...]


@dataclass(frozen=True)
class Match:
    rule: RuleSpec
    triggers: list[dict]  # the conditions that held, with the value each field had

    @property
    def reason(self) -> str:
        if not self.triggers:
            return f"No other rule matched; the catch-all rule {self.rule.name!r} took it."
        parts = [f"{t['field']} {t['op']} {t['value']!r} (was {_shown(t['actual'])})" for t in self.triggers]
        joiner = " and " if self.rule.match == "all" else " or "
        return f"Rule {self.rule.name!r} matched: {joiner.join(parts)}."


# A field's value in a reason is cut here: a ticket's whole text would drown the rule.
REASON_VALUE_CHARS = 80


def _shown(value) -> str:
    """A field's value as a person reads it in a reason: text on one line (no literal ``\\n``
    from ``repr``), quoted and cut short; other values as they are."""
    if not isinstance(value, str):
        return repr(value)
    flat = " ".join(value.split())
    if len(flat) > REASON_VALUE_CHARS:
        flat = flat[: REASON_VALUE_CHARS - 1] + "…"
    return f"'{flat}'"


def compile_rules(specs: list[RuleSpec], *, version: int, revision: int) -> CompiledRuleSet:
    """Validate and compile enabled rules. Exactly one catch-all must exist, and it runs last."""
    defaults = [s for s in specs if s.is_default]
    if len(defaults) != 1:
        raise RuleInvalid({"rule": "A rule set needs exactly one catch-all rule."})
    compiled = []
    for spec in sorted((s for s in specs if not s.is_default), key=lambda s: (s.priority, s.id)):
        validate_rule(match=spec.match, conditions=spec.conditions, is_default=False)
        predicates = tuple(_predicate(c["field"], c["op"], c["value"]) for c in spec.conditions)
        compiled.append(CompiledRule(spec, predicates, spec.match == "all"))
    compiled.append(CompiledRule(defaults[0], (), True))
    return CompiledRuleSet(version=version, revision=revision, rules=tuple(compiled))


def fold_context(context: dict) -> dict:
    """The context as rules see it: strings case-folded (and capped), lists of strings too."""
    folded = {}
    for name in CONTEXT_FIELDS:
        value = context.get(name)
        if isinstance(value, str):
            value = value[:MAX_MATCH_TEXT].casefold()
        elif isinstance(value, list):
            value = [_fold(v) for v in value]
        folded[name] = value
    return folded


def route(rules: CompiledRuleSet, context: dict) -> Match:
    """The first rule that matches ``context``; the catch-all guarantees there is one."""
    folded = fold_context(context)
    for rule in rules.rules:
        if rule.test(folded):
            return Match(rule.spec, _triggers(rule, folded, context))
    raise AssertionError("compile_rules always ends with the catch-all rule")


def _triggers(rule: CompiledRule, folded: dict, context: dict) -> list[dict]:
    held = []
    for condition, predicate in zip(rule.spec.conditions, rule.predicates, strict=True):
        if predicate(folded):
            actual = context.get(condition["field"])
            if isinstance(actual, str) and len(actual) > 120:
                actual = actual[:117] + "..."
            held.append({**condition, "actual": actual})
    return held
