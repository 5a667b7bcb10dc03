"""Writes for CRM sync: our owner, plan or lifecycle stage pushed to the CRM company.

A push is a CRM outbox message (delivered by the adapter after commit, retried with backoff,
alerted on the last failure). Its dedupe key names the record, the field and the value, so
asking again while one is on its way queues nothing more. The drift it answers stays open,
and visible, until a reconciliation run sees the CRM agree and resolves it.
"""

from django.conf import settings
from django.utils import timezone

from accounts.billing.crm import (
    OUTBOX_DESTINATION,
    CrmAdapter,
    CrmCannotRepresent,
    CrmUnavailable,
    crm_adapter,
    expected_values,
    parse_record_ref,
)
from accounts.models import BillingDrift, OpsException
from accounts.services import account_event_note
from opsconsole.errors import ApplicationError, Conflict
from opsconsole.history import service
from opsconsole.models import OutboxMessage
from opsconsole.outbox import outbox_enqueue

PUSH_COMMAND = "crm.update_company"


def crm_push_record_id(*, drift: BillingDrift, adapter: CrmAdapter) -> str:
    """The company a push for this drift goes to, or a refusal saying why there is none."""
    if not adapter.configured:
        raise Conflict(
            "crm_not_configured",
            f"The {adapter.name} CRM has no credentials here (CRM_ADAPTER is {settings.CRM_ADAPTER}), "
            "so a push would never be delivered; configure the CRM first.",
        )
    record = drift.theirs.get("record", "")
    crm_name, record_id = parse_record_ref(record)
    if crm_name != adapter.name or not record_id:
        raise Conflict(
            "crm_record_unknown",
            f"The drift names record {record or 'none'}, not a {adapter.name} company; "
            "reconcile the CRM again first.",
            {"record": record},
        )
    return record_id


@service
def crm_push_queue(
    *,
    drift: BillingDrift,
    field: str,
    by: str,
    adapter: CrmAdapter | None = None,
    action_run=None,
    actor,
) -> OutboxMessage | None:
    """Queue our value of ``field`` for the CRM company the drift names, note it on the
    account's timeline and on the drift's exception. None in a dry run."""
    adapter = adapter or crm_adapter()
    account = drift.account
    record = drift.theirs.get("record", "")
    record_id = crm_push_record_id(drift=drift, adapter=adapter)
    try:
        properties = adapter.company_properties(field=field, account=account)
    except CrmCannotRepresent as exc:
        raise Conflict("crm_cannot_represent", str(exc), {"field": field}) from exc
    except CrmUnavailable as exc:
        raise ApplicationError("crm_unavailable", str(exc), status=503) from exc
    value = expected_values(adapter, account)[field]
    message = outbox_enqueue(
        destination=OUTBOX_DESTINATION,
        command=PUSH_COMMAND,
        payload={
            "crm": adapter.name,
            "record_id": record_id,
            "field": field,
            "value": value,
            "properties": properties,
        },
        account=account,
        action_run=action_run,
        dedupe_key=f"crm:{record}:{field}={value}"[:255],
    )
    note = {
        "field": field,
        "value": value,
        "record": record,
        "command_id": str(message.pk) if message else None,
        "by": by,
    }
    account_event_note(account=account, type="crm.push_queued", payload=note, actor=actor)
    if drift.exception_id is not None:
        exception = OpsException.objects.select_for_update().get(pk=drift.exception_id)
        exception.evidence = {
            **exception.evidence,
            "crm_push": {**note, "queued_at": timezone.now().isoformat()},
        }
        exception.save()
    return message


@service
def crm_lifecycle_push_auto(*, drift: BillingDrift, adapter: CrmAdapter, run, actor) -> OutboxMessage | None:
    """With CRM_PUSH_LIFECYCLE the product is the system of record for lifecycle stages: a
    mismatch is fixed by pushing ours, without a person. Once per drift and value, so a CRM
    that keeps refusing the value raises the outbox's alert once, not a push every run."""
    field = "lifecycle_stage"
    value = expected_values(adapter, drift.account)[field]
    pushed = drift.exception.evidence.get("crm_push") if drift.exception_id else None
    if pushed and pushed.get("field") == field and pushed.get("value") == value:
        return None
    return crm_push_queue(
        drift=drift, field=field, by=f"reconciliation run #{run.pk}", adapter=adapter, actor=actor
    )
