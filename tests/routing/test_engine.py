"""The engine is a pure function: these tests need no database."""

import pytest

from routing import engine
from routing.engine import RuleInvalid, RuleSpec, compile_rules, route

DEFAULT = RuleSpec(
    id=999,
    key="catch-all",
    name="Catch-all",
    priority=10_000,
    match="all",
    conditions=[],
    is_default=True,
    outputs={"queue": "triage"},
)


def rules(*specs):
    return compile_rules([*specs, DEFAULT], version=1, revision=1)


def rule(key, conditions, *, priority=10, match="all"):
    return RuleSpec(
        id=priority,
        key=key,
        name=key,
        priority=priority,
        match=match,
        conditions=conditions,
        outputs={"queue": key},
    )


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


@pytest.mark.parametrize(
    "condition,context,expected",
    [
        (cond("plan", "eq", "team"), {"plan": "team"}, True),
        (cond("plan", "eq", "team"), {"plan": "Team"}, True),  # strings compare case-insensitively
        (cond("plan", "eq", "team"), {"plan": "business"}, False),
        (cond("plan", "eq", "team"), {}, False),
        (cond("paid", "eq", True), {"paid": True}, True),
        (cond("paid", "eq", True), {"paid": False}, False),
        (cond("billing_status", "in", ["past_due", "unpaid"]), {"billing_status": "unpaid"}, True),
        (cond("billing_status", "in", ["past_due", "unpaid"]), {"billing_status": "active"}, False),
        (cond("billing_status", "in", ["past_due"]), {}, False),
        (cond("plan", "not_in", ["free"]), {"plan": "team"}, True),
        (cond("plan", "not_in", ["free"]), {"plan": "free"}, False),
        (
            cond("open_exception_codes", "in", ["token_expired", "x"]),
            {"open_exception_codes": ["token_expired"]},
            True,
        ),
        (cond("open_exception_codes", "in", ["x"]), {"open_exception_codes": ["token_expired"]}, False),
        (cond("open_exception_codes", "not_in", ["x"]), {"open_exception_codes": ["token_expired"]}, True),
        (cond("open_exception_codes", "not_in", ["x"]), {}, True),
        (cond("arr_cents", "gte", 100_000), {"arr_cents": 100_000}, True),
        (cond("arr_cents", "gte", 100_000), {"arr_cents": 99_999}, False),
        (cond("arr_cents", "gte", 0), {"arr_cents": None}, False),
        (cond("account_age_days", "lte", 7), {"account_age_days": 7}, True),
        (cond("account_age_days", "lte", 7), {"account_age_days": 8}, False),
        (cond("text", "contains", "Refund"), {"text": "I want a REFUND please"}, True),
        (cond("text", "contains", "refund"), {"text": "thanks"}, False),
        (
            cond("recent_event_types", "contains", "import.failed"),
            {"recent_event_types": ["import.failed"]},
            True,
        ),
        (cond("recent_event_types", "contains", "import.failed"), {"recent_event_types": []}, False),
        (cond("subject", "matches", r"\b(sso|saml)\b"), {"subject": "SAML login loop"}, True),
        (cond("subject", "matches", r"^error \d{3}$"), {"subject": "error 5xx"}, False),
        (cond("subject", "matches", r"x"), {}, False),
    ],
)
def test_each_operator(condition, context, expected):
    compiled = rules(rule("hit", [condition]))
    assert (route(compiled, context).rule.key == "hit") is expected


def test_first_matching_rule_by_priority_wins():
    compiled = rules(
        rule("late", [cond("plan", "eq", "team")], priority=30),
        rule("early", [cond("plan", "eq", "team")], priority=10),
        rule("middle", [cond("plan", "eq", "free")], priority=20),
    )
    assert route(compiled, {"plan": "team"}).rule.key == "early"
    assert route(compiled, {"plan": "free"}).rule.key == "middle"
    assert route(compiled, {"plan": "business"}).rule.key == "catch-all"


def test_all_needs_every_condition_any_needs_one():
    conditions = [cond("plan", "eq", "team"), cond("paid", "eq", True)]
    both = rules(rule("r", conditions, match="all"))
    either = rules(rule("r", conditions, match="any"))
    assert route(both, {"plan": "team", "paid": False}).rule.key == "catch-all"
    assert route(both, {"plan": "team", "paid": True}).rule.key == "r"
    assert route(either, {"plan": "free", "paid": True}).rule.key == "r"


def test_match_reports_triggering_fields_and_values():
    compiled = rules(rule("r", [cond("plan", "in", ["team"]), cond("text", "contains", "sso")], match="any"))
    match = route(compiled, {"plan": "Team", "text": "no single sign-on here"})
    assert match.triggers == [{"field": "plan", "op": "in", "value": ["team"], "actual": "Team"}]
    assert "plan in ['team'] (was 'Team')" in match.reason


def test_a_reason_shows_a_long_text_on_one_line_cut_short():
    compiled = rules(rule("outage", [cond("text", "contains", "down")]))
    text = "Dashboard is down for our whole team\nSince 9am every page returns HTTP 503. " + "x" * 200
    reason = route(compiled, {"text": text}).reason
    assert "\\n" not in reason and "\n" not in reason
    assert "(was 'Dashboard is down for our whole team Since 9am" in reason
    assert "…'" in reason and len(reason) < 200


def test_catch_all_takes_what_nothing_else_matches():
    match = route(rules(), {"plan": "team"})
    assert match.rule.key == "catch-all" and match.triggers == [] and "catch-all" in match.reason


def test_a_rule_set_without_exactly_one_catch_all_does_not_compile():
    with pytest.raises(RuleInvalid):
        compile_rules([rule("r", [cond("plan", "eq", "x")])], version=1, revision=1)
    with pytest.raises(RuleInvalid):
        compile_rules([DEFAULT, DEFAULT], version=1, revision=1)


@pytest.mark.parametrize(
    "conditions,key,fragment",
    [
        ([cond("colour", "eq", "red")], "0", "Unknown field 'colour'"),
        ([cond("plan", "like", "t%")], "0", "Unknown operator 'like'"),
        ([cond("plan", "gte", 3)], "0", "does not apply"),
        ([cond("arr_cents", "matches", "1+")], "0", "does not apply"),
        ([cond("subject", "matches", "(unclosed")], "0", "Bad regular expression"),
        ([cond("subject", "matches", "a" * (engine.MAX_REGEX_LENGTH + 1))], "0", "longer than"),
        ([cond("plan", "in", [])], "0", "non-empty list"),
        ([cond("plan", "in", "team")], "0", "non-empty list"),
        ([cond("arr_cents", "gte", "lots")], "0", "needs a num"),
        ([cond("paid", "eq", "yes")], "0", "needs a bool"),
        ([{"field": "plan", "op": "eq"}], "0", "nothing else"),
        (["plan == team"], "0", "nothing else"),
        ([], "conditions", "Only the catch-all"),
        ("plan=team", "conditions", "a list"),
    ],
)
def test_bad_conditions_are_refused_with_a_clear_message(conditions, key, fragment):
    with pytest.raises(RuleInvalid) as info:
        engine.validate_rule(match="all", conditions=conditions, is_default=False)
    assert fragment in info.value.errors[key]


def test_bad_match_mode_is_refused():
    with pytest.raises(RuleInvalid) as info:
        engine.validate_rule(match="most", conditions=[cond("plan", "eq", "team")], is_default=False)
    assert "match" in info.value.errors


def test_regex_runs_on_capped_text():
    compiled = rules(rule("tail", [cond("body", "matches", "needle$")]))
    body = "x" * engine.MAX_MATCH_TEXT + "needle"
    assert route(compiled, {"body": body}).rule.key == "catch-all"
