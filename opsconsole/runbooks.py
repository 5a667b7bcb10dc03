"""Reads for runbooks: which runbook governs an exception, and so an action on it."""

from opsconsole.models import Runbook


def _facts_match(facts: dict, evidence: dict) -> bool:
    return all(evidence.get(key) == value for key, value in (facts or {}).items())


def runbook_for_exception(exception) -> Runbook | None:
    """The active runbook for the exception's reason code whose facts its evidence meets.

    The runbook with the most facts wins, so a specific rule ("import failed with a timeout")
    beats the general one for the same reason code.
    """
    candidates = [
        rb
        for rb in Runbook.objects.filter(reason_code_id=exception.reason_code_id, active=True)
        if _facts_match(rb.facts, exception.evidence or {})
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda rb: (len(rb.facts or {}), -rb.pk))


def runbook_for_action(action, target) -> Runbook | None:
    """The runbook an action on ``target`` follows.

    On an exception, its runbook. On an account, the runbook of an open exception of the
    account that names this action, if any (e.g. mark_duplicate under duplicate_account).
    """
    from accounts.selectors import open_exceptions

    if target._meta.label == "accounts.OpsException":
        return runbook_for_exception(target)
    if target._meta.label == "accounts.Account":
        for exception in open_exceptions(target):
            runbook = runbook_for_exception(exception)
            if runbook is not None and action.name in runbook.allowed_actions:
                return runbook
    return None
