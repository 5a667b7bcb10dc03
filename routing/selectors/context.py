"""What a ticket or an escalation carries about its account: the enrichment snapshot taken at
intake, and the telemetry engineering starts from."""

from datetime import datetime

from accounts.selectors import account_recent_events, open_exceptions, provisioning_status
from accounts.shapes import EVENT_STEP_TRANSITIONS, PLANS, is_failure_event
from opsconsole.runbooks import has_runbook, reason_codes_with_runbook

# How far back enrichment looks for failures and successes; "failed attempts" counts within it.
EVENTS_SCANNED = 20
SUCCESS_EVENT_TYPES = frozenset(
    [t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.outcome == "succeeded"] + ["first_value.reached"]
)


def _event_brief(event) -> dict:
    return {
        "type": event.type,
        "occurred_at": event.occurred_at.isoformat(),
        "error_code": event.error_code,
        "request_id": event.request_id,
        "feature_area": event.feature_area,
    }


def ticket_context(
    *,
    account,
    account_match: str,
    source: str,
    external_id: str,
    subject: str,
    body: str,
    requester_email: str,
    error_code: str = "",
    request_id: str = "",
    feature_area: str = "",
    now: datetime,
) -> dict:
    """The snapshot stored on a ticket: the rule fields (engine.CONTEXT_FIELDS) plus what an
    agent reads on the ticket page (recent events, open exceptions)."""
    context = {
        "source": source,
        "external_id": external_id,
        "subject": subject,
        "body": body,
        "text": f"{subject}\n{body}",
        "requester_email": requester_email,
        "requester_domain": requester_email.rsplit("@", 1)[-1].lower() if "@" in requester_email else "",
        "error_code": error_code,
        "request_id": request_id,
        "feature_area": feature_area,
        "account_matched": account is not None,
        "account_match": account_match,
        "enriched_at": now.isoformat(),
    }
    if account is None:
        return context
    events = account_recent_events(account=account, limit=EVENTS_SCANNED)
    failed = [e for e in events if is_failure_event(e.type)]
    succeeded = [e for e in events if e.type in SUCCESS_EVENT_TYPES]
    exceptions = list(open_exceptions(account))
    with_runbook = reason_codes_with_runbook(x.reason_code_id for x in exceptions)
    plan = PLANS.get(account.plan)
    mrr_cents = account.mrr_cents or (plan.mrr_cents if plan else 0)
    context.update(
        {
            "account_external_id": account.external_id,
            "account_name": account.name,
            "plan": account.plan,
            "paid": bool(plan and plan.mrr_cents > 0),
            "shape": account.shape,
            "channel": account.channel.code,
            "channel_kind": account.channel.kind,
            "channel_sla_minutes": account.channel.support_sla_minutes,
            "lifecycle_stage": account.lifecycle_stage,
            "account_owner": account.owner.get_username() if account.owner else "",
            "billing_status": account.billing_status,
            "arr_cents": mrr_cents * 12,
            "account_age_days": max(0, (now - account.signed_up_at).days),
            "provisioning_status": provisioning_status(account).status,
            "last_failed_event": failed[0].type if failed else "",
            "last_failed_error_code": failed[0].error_code if failed else "",
            "last_success_event": succeeded[0].type if succeeded else "",
            "recent_event_types": [e.type for e in events[:5]],
            "open_exception_codes": [x.reason_code.code for x in exceptions],
            "open_exception_count": len(exceptions),
            "failed_attempts": len(failed),
            "last_failed": _event_brief(failed[0]) if failed else None,
            "last_success": _event_brief(succeeded[0]) if succeeded else None,
            "recent_events": [_event_brief(e) for e in events[:5]],
            "open_exceptions": [
                {
                    "reason_code": x.reason_code.code,
                    "status": x.status,
                    "opened_at": x.opened_at.isoformat(),
                    "summary": x.summary,
                    "has_runbook": x.reason_code_id in with_runbook,
                }
                for x in exceptions
            ],
        }
    )
    return context


def escalation_telemetry(
    *, account, error_code: str = "", request_id: str = "", feature_area: str = "", source_exception=None
) -> dict:
    """What engineering needs to start without asking: who, on what, and what just happened."""
    events = account_recent_events(account=account, limit=5)
    telemetry = {
        "account": account.external_id,
        "plan": account.plan,
        "shape": account.shape,
        "channel": account.channel.code,
        "lifecycle_stage": account.lifecycle_stage,
        "billing_status": account.billing_status,
        "error_code": error_code,
        "request_id": request_id,
        "feature_area": feature_area,
        "last_events": [_event_brief(e) for e in events],
        "open_exception_codes": [x.reason_code.code for x in open_exceptions(account)],
    }
    if source_exception is not None:
        telemetry["exception"] = {
            "id": source_exception.pk,
            "reason_code": source_exception.reason_code.code,
            "has_runbook": has_runbook(source_exception.reason_code_id),
            "summary": source_exception.summary,
            "evidence": source_exception.evidence,
        }
    return telemetry
