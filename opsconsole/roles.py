"""The roles, defined once in code. A migration creates them; post_migrate keeps them whole.

Each role is a Django group whose model permissions are given as ``app_label.codename``
patterns, so a permission a later migration adds joins the roles that match it. The
permissions of guarded actions are not listed here: each action names the roles that may run
it (``Action.roles``), and the registry says which role holds which.
"""

from fnmatch import fnmatchcase

from opsconsole.actions.registry import action_permissions

SUPPORT = "support"
BILLING = "billing"
ENGINEERING = "engineering"
OPS_LEAD = "ops_lead"
# The executive owner: reads reports and gates, and signs the gate decisions it owns.
LEADERSHIP = "leadership"
PRODUCT = "product"
# A reporting service: reads the reports API, nothing else.
ANALYTICS = "analytics"

# The staff who work accounts, exceptions and tickets (guarded actions name these).
OPERATOR_ROLES = (SUPPORT, BILLING, ENGINEERING, OPS_LEAD)
STAFF_ROLES = OPERATOR_ROLES + (LEADERSHIP,)
SERVICE_ROLES = (PRODUCT, ANALYTICS)
ALL_ROLES = STAFF_ROLES + SERVICE_ROLES

# The channel dashboard, cohorts, their CSV and the reports API (METRICS.md).
VIEW_DASHBOARD = "reports.view_dashboard"
# A channel's ramp status (GET /api/v1/channels/{code}/ramp-status/); signing a gate decision
# (an executive owner signs the plans they own) and overriding a failed gate check.
VIEW_RAMP = "gates.view_ramp"
SIGN_DECISION = "gates.sign_decision"
OVERRIDE_CHECK = "gates.override_check"

_READ_EVERYTHING = ["accounts.view_*", "routing.view_*", "gates.view_*", "reports.view_*"]
# Billing's records (Stripe payloads, drifts quoting subscriptions, reconciliation runs): the
# billing state the account page hides from other roles, so only billing and ops leads read them.
_BILLING_RECORDS = [
    f"accounts.view_{historical}{model}"
    for model in ("billingdrift", "stripeevent", "reconciliationrun", "reconciliationmark")
    for historical in ("", "historical")
]
# Every staff role sees the action runs, approvals, runbooks and product commands.
_ACTIONS_EVERYONE = [
    "opsconsole.view_actionrun",
    "opsconsole.view_actionapproval",
    "opsconsole.view_runbook",
    "opsconsole.view_outboxmessage",
]
ROLE_PERMISSIONS: dict[str, list[str]] = {
    SUPPORT: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + [
        "accounts.change_opsexception",
        "routing.change_ticket",
        # Known issues: support records them and links tickets; closing one is not theirs.
        "routing.add_knownissue",
        "routing.link_knownissue",
    ],
    BILLING: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + [
        "accounts.change_opsexception",
        "accounts.view_billing",
        *_BILLING_RECORDS,
    ],
    ENGINEERING: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + [
        "accounts.change_opsexception",
        "routing.change_ticket",
        "routing.add_knownissue",
        "routing.link_knownissue",
        "routing.close_knownissue",
        "routing.add_release",
    ],
    OPS_LEAD: _READ_EVERYTHING
    + _ACTIONS_EVERYONE
    + [
        "opsconsole.approve_actionrun",
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
        *_BILLING_RECORDS,
        "routing.*",
        "gates.*",
        "opsconsole.view_*",
        # Staff sign-in: reset someone's second factors, lift a lockout (both audited).
        "opsconsole.reset_devices",
        "opsconsole.lift_lockout",
        VIEW_DASHBOARD,
        VIEW_RAMP,
        SIGN_DECISION,
        OVERRIDE_CHECK,
        # The cost model's inputs (reports, issue 12), kept in history.
        "reports.change_costsettings",
        "reports.add_channelspend",
        "reports.change_channelspend",
    ],
    # Reads what every staff role reads (a cohort's accounts, the gates), and the dashboard;
    # changes nothing and runs no action (gate decisions come with the gates).
    LEADERSHIP: _READ_EVERYTHING + [VIEW_DASHBOARD, VIEW_RAMP, SIGN_DECISION],
    PRODUCT: [
        "accounts.add_account",
        "accounts.view_account",
        "accounts.add_accountevent",
        "accounts.view_provisioningstep",
        "accounts.view_entitlementoverride",
        "routing.add_ticket",
        "routing.add_ticketupdate",
        "routing.view_knownissue",
    ],
    ANALYTICS: [VIEW_DASHBOARD, VIEW_RAMP],
}

# Audit and history rows are written by services only: no role may change or delete them.
_NEVER_GRANTED = ("*.change_historical*", "*.delete_historical*", "*.add_historical*")
# Sensitive permissions a wildcard such as "accounts.view_*" must not hand out by accident:
# a role holds them only when it names them.
GRANTED_BY_NAME_ONLY = frozenset(
    {
        "accounts.view_billing",
        "accounts.approve_account",
        VIEW_DASHBOARD,
        VIEW_RAMP,
        SIGN_DECISION,
        OVERRIDE_CHECK,
        *_BILLING_RECORDS,
    }
)


def _action_roles() -> dict[str, tuple[str, ...]]:
    """``opsconsole.run_<name>`` (and each action's extra permissions) -> the roles holding it."""
    return {permission.full_name: permission.roles for permission in action_permissions()}


def permission_matches(role: str, app_label: str, codename: str, *, action_roles=None) -> bool:
    full = f"{app_label}.{codename}"
    if any(fnmatchcase(full, pattern) for pattern in _NEVER_GRANTED):
        return False
    action_roles = _action_roles() if action_roles is None else action_roles
    if full in action_roles:
        return role in action_roles[full]
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
    action_roles = _action_roles()
    for role in ALL_ROLES:
        group, _ = Group.objects.get_or_create(name=role)
        wanted = [
            p
            for p in permissions
            if permission_matches(role, p.content_type.app_label, p.codename, action_roles=action_roles)
        ]
        group.permissions.set(wanted)


def sync_roles_after_migrate(sender, using="default", **kwargs):
    from django.contrib.auth.models import Group
    from django.db import router

    if router.allow_migrate_model(using, Group):
        sync_roles()


def sync_roles_in_migration(apps) -> None:
    """For a migration that brings roles or permissions for them: permissions are normally
    created after all migrations, so create them now, then give the roles theirs."""
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_roles(apps)
