"""Who may run a guarded action, and the permission rows the registered actions bring.

A user may run an action on a target when their role holds the action's permission and they
may see the target (``Model.objects.restrict``, which honours guardian's per-object grants:
a partner manager acts only on the accounts granted to them).

Each registered action brings ``opsconsole.run_<name>`` (and any ``extra_permissions``). They
are made after every migrate, from the registry, so an app adds an action without a migration
in ``opsconsole``; ``opsconsole.roles`` gives them to the roles each action names.
"""

from django.contrib.auth.models import Permission
from django.contrib.contenttypes.models import ContentType
from django.db import DEFAULT_DB_ALIAS, router

from opsconsole.actions import targets
from opsconsole.actions.registry import Action, action_permissions
from opsconsole.models import ActionRun


def permission_problem(user, action: Action, target) -> str | None:
    """Why ``user`` may not run ``action`` on ``target``, or None when they may."""
    if user is None or not user.is_authenticated or not user.is_active:
        return "You must be signed in as an active user."
    if not user.has_perm(action.permission):
        return f"Your role may not run {action.name}."
    if not targets.target_for(target).allows(user, target):
        return f"You do not have access to this {target._meta.verbose_name}."
    return None


def may_run(user, action: Action, target) -> bool:
    return permission_problem(user, action, target) is None


def action_permissions_create(sender=None, using=DEFAULT_DB_ALIAS, **kwargs) -> None:
    """post_migrate: the permission rows of the registered actions, on ActionRun's content
    type, as ``Meta.permissions`` would make them. Rows of actions no longer registered stay,
    like every stale permission in Django: no role is given them."""
    if not router.allow_migrate_model(using, Permission):
        return
    content_type = ContentType.objects.db_manager(using).get_for_model(ActionRun)
    existing = set(
        Permission.objects.using(using).filter(content_type=content_type).values_list("codename", flat=True)
    )
    Permission.objects.using(using).bulk_create(
        Permission(content_type=content_type, codename=p.codename, name=p.description)
        for p in action_permissions()
        if p.codename not in existing
    )
