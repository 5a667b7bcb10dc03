"""Routing fixtures: queues, rule sets built through the services, tickets through intake."""

import itertools

import pytest

from routing import services
from routing.models import Queue, RuleSet

_counter = itertools.count(1)


@pytest.fixture
def make_queue(db):
    def _make(code: str | None = None, **fields):
        code = code or f"queue-{next(_counter)}"
        fields.setdefault("name", code.title())
        fields.setdefault("team", "support")
        fields.setdefault("auto_assign", False)
        return Queue.objects.create(code=code, **fields)

    return _make


@pytest.fixture
def triage_queue(db):
    return Queue.objects.get(code="triage")


@pytest.fixture
def activate_rules(system):
    """``activate_rules([dict(key=..., conditions=..., ...), ...])`` makes a new active rule set
    from the current one plus these rules (priorities 10, 20, ... unless given)."""

    def _activate(rules: list[dict], *, default: dict | None = None) -> RuleSet:
        draft = services.rule_set_draft_create(actor=system)
        for index, values in enumerate(rules, start=1):
            values = dict(values)
            values.setdefault("name", values["key"])
            values.setdefault("priority", index * 10)
            values.setdefault("match", "all")
            values.setdefault("severity", "sev3")
            values.setdefault("category", "documentation")
            services.rule_save(rule_set=draft, actor=system, **values)
        if default:
            services.rule_save(rule_set=draft, rule=draft.rules.get(is_default=True), actor=system, **default)
        return services.rule_set_activate(rule_set=draft, actor=system)

    return _activate


@pytest.fixture
def intake(system):
    """``intake(subject=..., ...)`` takes a ticket in with sensible defaults; returns the ticket."""

    def _intake(**fields):
        fields.setdefault("source", "zendesk")
        fields.setdefault("external_id", f"zd-{next(_counter)}")
        fields.setdefault("requester_email", "someone@customer.example")
        fields.setdefault("subject", "Help")
        fields.setdefault("body", "")
        actor = fields.pop("actor", system)
        ticket, _ = services.ticket_intake(actor=actor, **fields)
        return ticket

    return _intake
