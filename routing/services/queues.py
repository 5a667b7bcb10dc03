"""Who works a queue: grants per user or per role (guardian), and the check every ticket write
makes before it changes a ticket."""

from guardian.shortcuts import assign_perm, remove_perm

from opsconsole.errors import PermissionRefused, ValidationFailed
from opsconsole.history import service
from routing.models import Queue


def queue_access_require(actor, queue: Queue) -> None:
    """Refuse unless ``actor`` works ``queue``."""
    if not Queue.objects.allows(actor, queue, "change"):
        raise PermissionRefused("queue_access_denied", f"You do not work the {queue.code!r} queue.")


@service
def queue_access_grant(*, queue: Queue, user=None, group=None, actor) -> None:
    """Let a user or a group (a role) see and work a queue's tickets."""
    if (user is None) == (group is None):
        raise ValidationFailed("grantee_required", "Grant to exactly one user or one group.")
    assign_perm("work_queue", user or group, queue)


@service
def queue_access_revoke(*, queue: Queue, user=None, group=None, actor) -> None:
    if (user is None) == (group is None):
        raise ValidationFailed("grantee_required", "Revoke from exactly one user or one group.")
    remove_perm("work_queue", user or group, queue)
