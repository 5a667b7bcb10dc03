"""Hypothesis: routing-rule conditions, whatever their shape, are judged in words or compiled,
and a compiled rule set routes any context (of any field types) to exactly one rule."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from routing.engine import (
    CONTEXT_FIELDS,
    OPERATORS,
    RuleInvalid,
    RuleSpec,
    compile_rules,
    route,
    validate_condition,
)

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
FIELD = st.sampled_from(sorted(CONTEXT_FIELDS)) | st.text(max_size=12)
OP = st.sampled_from(sorted(OPERATORS)) | st.text(max_size=8)
REGEX = st.sampled_from(["a+", "(x|y)*z", "^err_[0-9]+$", "(", "[", "(a*)*b", ".*"])
VALUE = JSON | REGEX | st.lists(st.text(max_size=10), min_size=1, max_size=5)
CONDITION = st.fixed_dictionaries({"field": FIELD, "op": OP, "value": VALUE}) | JSON
CONTEXT = st.dictionaries(st.sampled_from(sorted(CONTEXT_FIELDS)), JSON | st.text(max_size=200), max_size=12)
FAST = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


@FAST
@given(CONDITION)
def test_any_condition_is_either_sound_or_refused_in_words(condition):
    problem = validate_condition(condition)
    assert problem is None or (isinstance(problem, str) and problem)


def _rule_set(conditions, match="all"):
    specs = [
        RuleSpec(id=1, key="r", name="r", priority=10, match=match, conditions=conditions),
        RuleSpec(
            id=2, key="default", name="Catch-all", priority=1000, match="all", conditions=[], is_default=True
        ),
    ]
    return compile_rules(specs, version=1, revision=1)


@FAST
@given(st.lists(CONDITION, max_size=4), st.sampled_from(["all", "any"]), CONTEXT)
def test_sound_rules_route_any_context_to_one_rule(conditions, match, context):
    try:
        rules = _rule_set(conditions, match)
    except RuleInvalid as invalid:
        assert invalid.errors  # refused with reasons, never an exception of another kind
        return
    assert all(validate_condition(c) is None for c in conditions)
    matched = route(rules, context)
    assert matched.rule.key in {"r", "default"}
    if not conditions:
        return
    # The catch-all only when the rule did not match: routing the same context is stable.
    assert route(rules, context).rule.key == matched.rule.key
