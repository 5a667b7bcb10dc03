"""CRM run: companies -> close. Each company linked to an account is compared field by field
(in the CRM's vocabulary, through the adapter); with CRM_PUSH_LIFECYCLE a lifecycle mismatch
queues a push of ours."""

from django.conf import settings

from accounts.billing.crm import crm_adapter, expected_values, record_ref
from accounts.billing.crm_push import crm_lifecycle_push_auto
from accounts.billing.reconciliation.pages import DONE, PageReader, PageStep
from accounts.billing.rules import CRM_DRIFT_KINDS
from accounts.billing.services import drift_open, drift_resolve, drift_resolve_unseen
from accounts.choices import DriftKind, DriftStatus, ReconciliationTarget
from accounts.models import Account, BillingDrift, ReconciliationRun


def _step_companies(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = PageStep(run, actor)
    adapter = crm_adapter()
    page = adapter.companies_page(cursor=run.checkpoint.get("cursor"))
    with step:
        wanted = {c.account_external_id for c in page.companies if c.account_external_id}
        accounts = {
            a.external_id: a
            for a in Account.objects.select_for_update(of=("self",))
            .select_related("channel", "owner")
            .filter(external_id__in=wanted)
            .order_by("pk")
        }
        open_drift: dict[tuple[str, str], BillingDrift] = {
            (d.subject, d.kind): d
            for d in BillingDrift.objects.select_for_update().filter(
                system=ReconciliationTarget.CRM, status=DriftStatus.OPEN, subject__in=wanted
            )
        }
        for company in page.companies:
            account = accounts.get(company.account_external_id)
            if account is None:
                continue
            expected = expected_values(adapter, account)
            theirs = {
                "owner": company.owner_email,
                "plan": company.plan,
                "lifecycle_stage": company.lifecycle_stage,
            }
            for name, kind in CRM_DRIFT_KINDS.items():
                existing = open_drift.get((account.external_id, kind))
                if expected[name] == theirs[name]:
                    if existing is not None:
                        step.run.drift_resolved += drift_resolve(
                            existing,
                            note=f"Resolved automatically by reconciliation run #{step.run.pk}: "
                            f"{adapter.name} {name} now agrees ({theirs[name] or 'empty'}).",
                        )
                    continue
                drift, created = drift_open(
                    system=ReconciliationTarget.CRM,
                    kind=kind,
                    subject=account.external_id,
                    account=account,
                    field=name,
                    ours={name: expected[name]},
                    theirs={name: theirs[name], "record": record_ref(adapter, company.record_id)},
                    summary=f"{name}: {expected[name] or 'empty'} here, "
                    f"{theirs[name] or 'empty'} in {adapter.name}",
                    run=step.run,
                )
                step.count_drift(created=created)
                if kind == DriftKind.CRM_LIFECYCLE and settings.CRM_PUSH_LIFECYCLE:
                    crm_lifecycle_push_auto(drift=drift, adapter=adapter, run=step.run, actor=actor)
        step.page_done(
            scanned=len(page.companies),
            phase_next="close",
            has_more=page.next_cursor is not None,
            cursor=page.next_cursor,
        )
    return step.run


def _step_close(run: ReconciliationRun, actor, reader: PageReader | None = None) -> ReconciliationRun:
    step = PageStep(run, actor)
    with step:
        step.run.drift_resolved += drift_resolve_unseen(system=ReconciliationTarget.CRM, run=step.run)
        step.run.checkpoint = {"phase": DONE}
    return step.run


PHASES = {"companies": _step_companies, "close": _step_close}
