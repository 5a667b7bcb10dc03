"""The runbooks every install starts with, for the reason codes that come up most."""

from django.db import migrations

NOTE = {"name": "note", "label": "What you checked"}
TICKET = {"name": "ticket", "label": "Ticket or conversation link"}

# code, reason code, title, facts, allowed actions, owner role, evidence, steps, stop rule
RUNBOOKS = [
    (
        "import-timeout",
        "import_failed",
        "Import timed out",
        {"error_code": "timeout"},
        ["restart_import", "resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE],
        "1. Check the import.failed event: error code timeout, no schema error.\n"
        "2. Check the customer's file size is within the plan's limits.\n"
        "3. Restart the import once.",
        "If the import failed with a timeout and no schema error, support may restart once; "
        "after that, escalate to engineering.",
    ),
    (
        "import-failed",
        "import_failed",
        "Import failed (other errors)",
        {},
        ["resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE],
        "1. Read the error code and request id on the import.failed event.\n"
        "2. A schema error or an unknown error is not fixed by a restart.",
        "Escalate to engineering with the request id; do not restart.",
    ),
    (
        "invite-expired",
        "invite_expired",
        "Admin invitation expired",
        {},
        ["resend_invite", "resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE],
        "1. Confirm the admin email with the customer.\n2. Resend the invitation.",
        "If a resent invitation expires again, escalate to engineering (mail delivery).",
    ),
    (
        "duplicate-account",
        "duplicate_account",
        "Customer signed up twice",
        {},
        ["mark_duplicate", "resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE, TICKET],
        "1. Confirm with the customer which account to keep.\n"
        "2. Mark the other account as its duplicate (an ops lead approves).",
        "If both accounts hold data or billing, stop and escalate to engineering for a merge.",
    ),
    (
        "token-expired",
        "token_expired",
        "Integration token expired",
        {},
        ["resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE],
        "1. Ask the customer to reconnect the integration.\n"
        "2. Resolve once integration.connected arrives (it resolves itself).",
        "If reconnecting fails twice, escalate to engineering.",
    ),
    (
        "missing-permissions",
        "missing_permissions",
        "Customer admin lacks a permission",
        {},
        ["resolve_exception", "escalate_to_engineering"],
        "support",
        [NOTE],
        "1. Tell the customer which role the setup needs.\n2. Resolve once they confirm.",
        "If the role is granted and setup still fails, escalate to engineering.",
    ),
    (
        "billing-mismatch",
        "billing_mismatch",
        "Billing records disagree",
        {},
        ["reassign_plan", "replay_webhook", "resolve_exception", "escalate_to_engineering"],
        "billing",
        [NOTE],
        "1. Compare the plan in Stripe with the console.\n"
        "2. Replay the Stripe event, or change the plan to the one the customer pays for.",
        "If Stripe and the CRM disagree on what was sold, stop and ask the ops lead.",
    ),
    (
        "payment-failed",
        "payment_failed",
        "Payment failed",
        {},
        ["replay_webhook", "resolve_exception", "escalate_to_engineering"],
        "billing",
        [NOTE],
        "1. Check the invoice in Stripe.\n2. Ask the customer to update the payment method.",
        "After three failed payments, hand over to the ops lead.",
    ),
]


def seed(apps, schema_editor):
    Runbook = apps.get_model("opsconsole", "Runbook")
    ReasonCode = apps.get_model("accounts", "ReasonCode")
    for code, reason, title, facts, allowed, owner, evidence, steps, stop in RUNBOOKS:
        reason_code = ReasonCode.objects.filter(code=reason).first()
        if reason_code is None:
            continue
        Runbook.objects.update_or_create(
            code=code,
            defaults={
                "reason_code": reason_code,
                "title": title,
                "facts": facts,
                "allowed_actions": allowed,
                "owner_role": owner,
                "evidence_required": evidence,
                "steps": steps,
                "stop_rule": stop,
                "active": True,
            },
        )


def unseed(apps, schema_editor):
    apps.get_model("opsconsole", "Runbook").objects.filter(code__in=[r[0] for r in RUNBOOKS]).delete()


class Migration(migrations.Migration):
    dependencies = [("opsconsole", "0004_action_run_append_only"), ("accounts", "0002_seed_reason_codes")]
    operations = [migrations.RunPython(seed, unseed)]
