"""Reads for runbooks: which runbook governs a case, and so an action on it.

A case is what a runbook is written for: a row with a ``reason_code`` and an ``evidence`` dict
(an exception). An app says which cases bear on an action's target when it registers the
target (``targets.register(..., runbook_cases=...)``): a case is its own only case, and an
account's cases are its open exceptions.
"""

from opsconsole.actions import targets
from opsconsole.models import Runbook


def active_runbooks():
    """The runbooks in force. A reason code "has a runbook" when one of these names it: this
    is the one definition (escalations, ticket context, gates and pages all read it), so a
    runbook switched off or never written cannot count as one."""
    return Runbook.objects.filter(active=True)


def reason_codes_with_runbook(reason_code_ids) -> set:
    """Which of these reason codes (ids) have an active runbook, in one query."""
    return set(
        active_runbooks()
        .filter(reason_code_id__in=list(reason_code_ids))
        .values_list("reason_code_id", flat=True)
    )


def has_runbook(reason_code_id) -> bool:
    return bool(reason_codes_with_runbook([reason_code_id]))


def _facts_match(facts: dict, evidence: dict) -> bool:
    return all(evidence.get(key) == value for key, value in (facts or {}).items())


def runbook_for_case(case) -> Runbook | None:
    """The active runbook for the case's reason code whose facts its evidence meets.

    The runbook with the most facts wins, so a specific rule ("import failed with a timeout")
    beats the general one for the same reason code.
    """
    candidates = [
        rb
        for rb in active_runbooks().filter(reason_code_id=case.reason_code_id)
        if _facts_match(rb.facts, case.evidence or {})
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rb: (len(rb.facts or {}), -rb.pk))


def case_runbook(target) -> Runbook | None:
    """The runbook of ``target`` when it is a case itself (its page shows it), else None."""
    cases = list(targets.target_for(target).runbook_cases(target))
    return runbook_for_case(target) if target in cases else None


def runbook_for_action(action, target) -> Runbook | None:
    """The runbook an action on ``target`` follows.

    On a case (an exception), its own runbook, which refuses an action it does not allow. On
    anything else (an account), the runbook of one of its cases that names this action, if
    any (e.g. mark_duplicate under duplicate_account).
    """
    cases = list(targets.target_for(target).runbook_cases(target))
    if target in cases:
        return runbook_for_case(target)
    for case in cases:
        runbook = runbook_for_case(case)
        if runbook is not None and action.name in runbook.allowed_actions:
            return runbook
    return None
