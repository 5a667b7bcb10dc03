"""The reason-code catalogue every install starts with. Ops leads may tune the texts later."""

from django.db import migrations

# code, title, layer, owner team, handling min, response min, customer message, next action, step, runbook
REASON_CODES = [
    ("missing_permissions", "Customer admin lacks a permission the setup needs", "onboarding", "support", 15, 240,
     "Your admin account is missing a permission needed to finish setup.",
     "Ask your workspace owner to grant the Admin role, then retry.", "", True),
    ("import_failed", "Data import failed", "provisioning", "support", 20, 240,
     "Your data import did not finish.",
     "We are looking at it; you can retry the import from Settings > Import.", "import_data", True),
    ("unclear_setup_step", "Customer is stuck on a setup step", "onboarding", "support", 10, 480,
     "Setup is waiting on a step that may be unclear.",
     "Open the setup checklist or reply to our email and we will walk you through it.", "", False),
    ("billing_mismatch", "Billing records disagree between systems", "billing", "billing", 20, 480,
     "We are confirming your billing details.",
     "No action needed; we will contact you if anything changes.", "", True),
    ("duplicate_account", "The customer signed up twice", "onboarding", "support", 15, 480,
     "We found more than one account for your company.",
     "We will merge them; reply to tell us which one to keep.", "", True),
    ("duplicate_workspace", "A second workspace was created by mistake", "provisioning", "support", 15, 480,
     "A duplicate workspace was created.",
     "We will remove the extra workspace; no action needed.", "create_workspace", True),
    ("workspace_failed", "Workspace could not be provisioned", "provisioning", "engineering", 30, 120,
     "Your workspace could not be created yet.",
     "We are on it and will email you when it is ready.", "create_workspace", False),
    ("token_expired", "Integration token expired", "provisioning", "support", 5, 240,
     "Integration token expired; reconnect Google Workspace.",
     "Reconnect the integration under Settings > Integrations.", "connect_integration", True),
    ("integration_failed", "Integration could not connect", "provisioning", "engineering", 30, 240,
     "An integration could not be connected.",
     "Check the integration's settings or reconnect it under Settings > Integrations.", "connect_integration", False),
    ("invite_expired", "Admin invitation expired", "onboarding", "support", 5, 480,
     "Your invitation expired before it was accepted.",
     "We will send a fresh invitation; check your inbox.", "invite_admin", True),
    ("identity_review", "Identity needs a manual review", "onboarding", "ops_lead", 20, 240,
     "We are verifying your identity before activating the account.",
     "No action needed; this usually takes less than a business day.", "approve", True),
    ("enterprise_review", "Enterprise account awaiting review", "onboarding", "ops_lead", 30, 240,
     "Your account is being set up by our team.",
     "Your account manager will contact you to schedule onboarding.", "approve", True),
    ("payment_failed", "Payment failed", "billing", "billing", 10, 120,
     "Your last payment did not go through.",
     "Update your payment method under Settings > Billing.", "", True),
    ("unmatched_billing_record", "Billing record with no matching account", "billing", "billing", 20, 480,
     "We are reconciling your billing records.",
     "No action needed.", "", True),
    ("product_defect", "Suspected product defect", "escalation", "engineering", 60, 240,
     "We are investigating a problem on our side.",
     "No action needed; we will update you.", "", False),
]


def seed(apps, schema_editor):
    ReasonCode = apps.get_model("accounts", "ReasonCode")
    for code, title, layer, team, handling, response, message, next_action, step, runbook in REASON_CODES:
        ReasonCode.objects.update_or_create(
            code=code,
            defaults=dict(
                title=title,
                layer=layer,
                owner_team=team,
                estimated_handling_minutes=handling,
                target_response_minutes=response,
                customer_message=message,
                customer_next_action=next_action,
                provisioning_step=step,
                has_runbook=runbook,
            ),
        )


def unseed(apps, schema_editor):
    apps.get_model("accounts", "ReasonCode").objects.filter(code__in=[r[0] for r in REASON_CODES]).delete()


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
