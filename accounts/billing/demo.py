"""Demo data for billing sync: a finished reconciliation run and the drift it found, so the
reconciliation page and the account billing panels have something to show in ``make run``.

Without a Stripe to talk to, the drift is planted on existing demo accounts, through the same
``drift_open`` the reconciler uses (so each has its open exception). Deterministic for a given
``rng`` and idempotent: a second call finds the demo run and changes nothing.
"""

import random

from django.db import transaction
from django.utils import timezone

from accounts.billing.services import drift_open
from accounts.choices import DriftKind, ReconciliationMode, ReconciliationStatus, ReconciliationTarget
from accounts.models import Account, ReconciliationRun
from accounts.shapes import PLANS
from opsconsole.history import acting_as

DEMO_MARK = "demo"


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    # A key lookup, not __contains: make run uses SQLite, which has no JSON containment.
    if ReconciliationRun.objects.filter(**{f"checkpoint__{DEMO_MARK}": True}).exists():
        stdout.write("billing demo: already seeded")
        return
    accounts = list(Account.objects.select_related("channel", "owner").order_by("external_id")[:400])
    if len(accounts) < 12:
        stdout.write("billing demo: needs accounts first; skipped")
        return
    chosen = rng.sample(accounts, 12)
    now = timezone.now()
    with transaction.atomic(), acting_as(actor):
        run = ReconciliationRun.objects.create(
            target=ReconciliationTarget.STRIPE,
            mode=ReconciliationMode.FULL,
            status=ReconciliationStatus.COMPLETED,
            started_at=now,
            finished_at=now,
            checkpoint={"phase": "done", DEMO_MARK: True},
            objects_scanned=2 * len(accounts),
        )
        opened = 0
        for i, account in enumerate(chosen):
            account = (
                Account.objects.select_for_update(of=("self",)).select_related("channel").get(pk=account.pk)
            )
            kind, field, ours, theirs = _planted(i, account, rng)
            system = ReconciliationTarget.CRM if kind.startswith("crm_") else ReconciliationTarget.STRIPE
            _, created = drift_open(
                system=system,
                kind=kind,
                subject=account.external_id,
                account=account,
                field=field,
                ours=ours,
                theirs=theirs,
                summary=f"{field}: {ours.get(field)} here, {theirs.get(field)} in {system}",
                run=run,
            )
            opened += created
        run.mismatches_found = run.drift_opened = opened
        run.save()
    stdout.write(f"billing demo: reconciliation run #{run.pk} with {opened} open drift")


def _planted(i: int, account: Account, rng: random.Random):
    other_plan = rng.choice([code for code in PLANS if code != account.plan])
    kinds = [
        (
            DriftKind.PLAN,
            "plan",
            {"plan": account.plan},
            {"plan": other_plan, "subscription": f"sub_demo{i}"},
        ),
        (
            DriftKind.NO_SUBSCRIPTION,
            "stripe_subscription_id",
            {"billing_status": "active"},
            {"subscription": None},
        ),
        (
            DriftKind.BILLING_STATUS,
            "billing_status",
            {"billing_status": "active"},
            {"billing_status": "past_due"},
        ),
        (
            DriftKind.CRM_LIFECYCLE,
            "lifecycle_stage",
            {"lifecycle_stage": "customer"},
            {"lifecycle_stage": "other"},
        ),
    ]
    return kinds[i % len(kinds)]
