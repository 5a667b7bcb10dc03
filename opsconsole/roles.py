"""The roles, defined once in code. A migration creates them; post_migrate keeps them whole.

Each role is a Django group whose model permissions are given as ``app_label.codename``
patterns, so a permission a later migration adds joins the roles that match it.
"""

from fnmatch import fnmatchcase

SUPPORT = "support"
BILLING = "billing"
ENGINEERING = "engineering"
OPS_LEAD = "ops_lead"
PRODUCT = "product"

STAFF_ROLES = (SUPPORT, BILLING, ENGINEERING, OPS_LEAD)
SERVICE_ROLES = (PRODUCT,)
ALL_ROLES = STAFF_ROLES + SERVICE_ROLES

_READ_EVERYTHING = ["accounts.view_*", "routing.view_*", "gates.view_*", "reports.view_*"]
# Every staff role sees the action runs, approvals, runbooks and product commands, and may
# resolve or escalate an exception.
_ACTIONS_EVERYONE = [
    "opsconsole.view_actionrun",
    "opsconsole.view_actionapproval",
    "opsconsole.view_runbook",
    "opsconsole.view_outboxmessage",
    "opsconsole.run_resolve_exception",
    "opsconsole.run_escalate_to_engineering",
]
# Working a ticket is granted per queue (routing.work_queue), and any staff role may be granted
# a queue, so every staff role holds the actions that work a ticket and the queue grant decides.
_WORK_TICKETS = [
    "opsconsole.run_take_ticket",
    "opsconsole.run_mark_first_response",
    "opsconsole.run_wait_on_customer",
    "opsconsole.run_resume_ticket",
    "opsconsole.run_reassign_ticket",
    "opsconsole.run_solve_ticket",
    "opsconsole.run_escalate_ticket",
]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + _WORK_TICKETS
    + [
        "opsconsole.run_restart_import",
        "opsconsole.run_resend_invite",
        "opsconsole.run_mark_duplicate",
        "accounts.change_opsexception",
        "routing.change_ticket",
    ],
    BILLING: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + _WORK_TICKETS
    + [
        "opsconsole.run_reassign_plan",
        "opsconsole.run_replay_webhook",
        "opsconsole.run_adopt_stripe_value",
        "opsconsole.run_end_product_billing",
        "opsconsole.run_merge_stripe_customers",
        "opsconsole.run_link_stripe_customer",
        "opsconsole.run_push_to_crm",
        "accounts.change_opsexception",
        "accounts.view_billing",
    ],
    ENGINEERING: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + _WORK_TICKETS
    + [
        "opsconsole.run_restart_import",
        "opsconsole.restart_import_again",
        "opsconsole.run_replay_webhook",
        "accounts.change_opsexception",
        "routing.change_ticket",
    ],
    OPS_LEAD: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + _WORK_TICKETS
    + [
        "opsconsole.approve_actionrun",
        "opsconsole.run_push_to_crm",
        "opsconsole.add_runbook",
        "opsconsole.change_runbook",
        "accounts.add_channel",
        "accounts.change_channel",
        "accounts.change_opsexception",
        "accounts.change_reasoncode",
        "accounts.approve_account",
        "accounts.add_entitlementoverride",
        "accounts.change_entitlementoverride",
        "accounts.delete_entitlementoverride",
        "accounts.view_billing",
        "routing.*",
        "gates.*",
        "opsconsole.view_*",
    ],
    PRODUCT: [
        "accounts.add_account",
        "accounts.view_account",
        "accounts.add_accountevent",
        "accounts.view_provisioningstep",
        "accounts.view_entitlementoverride",
        "routing.add_ticket",
        "gates.view_ramp",
    ],
}

# Audit and history rows are written by services only: no role may change or delete them.
_NEVER_GRANTED = ("*.change_historical*", "*.delete_historical*", "*.add_historical*")
# Sensitive permissions a wildcard such as "accounts.view_*" must not hand out by accident:
# a role holds them only when it names them.
GRANTED_BY_NAME_ONLY = frozenset({"accounts.view_billing", "accounts.approve_account"})


def permission_matches(role: str, app_label: str, codename: str) -> bool:
    full = f"{app_label}.{codename}"
    if any(fnmatchcase(full, pattern) for pattern in _NEVER_GRANTED):
        return False
    if full in GRANTED_BY_NAME_ONLY:
        return full in ROLE_PERMISSIONS[role]
    return any(fnmatchcase(full, pattern) for pattern in ROLE_PERMISSIONS[role])


def sync_roles(apps=None) -> None:
    """Create the role groups and give each exactly the permissions its patterns match."""
    if apps is None:
        from django.apps import apps as global_apps

        apps = global_apps
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    permissions = list(Permission.objects.select_related("content_type"))
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [p for p in permissions if permission_matches(role, p.content_type.app_label, p.codename)]
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, using="default", **kwargs):
    from django.contrib.auth.models import Group
    from django.db import router

    if router.allow_migrate_model(using, Group):
        sync_roles()
