"""Three example timelines for a channel: a failed account, one with a ticket, an activated one.

Each is the newest cohort account (signed up in [since, until), not a duplicate) of its kind:
*failed* has a provisioning failure event (METRICS.md's failure types) and is not activated,
*with ticket* has a ticket matched to it, *activated* has ``activated_at`` set. Each kind picks
an account not already picked for an earlier kind when it can.
"""

from datetime import date

from django.db.models import Exists, OuterRef

from accounts.models import AccountEvent
from reports.metrics.definitions import FAILURE_EVENT_TYPES
from reports.scope import cohort
from routing.models import Ticket

KINDS = ("failed", "with_ticket", "activated")


def example_timelines(*, channel: str, since: date, until: date) -> dict:
    """{"failed": id or None, "with_ticket": id or None, "activated": id or None} (account pks)."""
    accounts = cohort(since=since, until=until, channel=channel).order_by("-signed_up_at", "-pk")
    failed = AccountEvent.objects.filter(account=OuterRef("pk"), type__in=FAILURE_EVENT_TYPES)
    ticket = Ticket.objects.filter(account=OuterRef("pk"))
    candidates = {
        "failed": accounts.filter(Exists(failed), activated_at__isnull=True),
        "with_ticket": accounts.filter(Exists(ticket)),
        "activated": accounts.filter(activated_at__isnull=False),
    }
    picked: dict[str, int | None] = {}
    for kind in KINDS:
        ids = list(
            candidates[kind]
            .exclude(pk__in=[p for p in picked.values() if p])
            .values_list("pk", flat=True)[:1]
        )
        if not ids:
            ids = list(candidates[kind].values_list("pk", flat=True)[:1])
        picked[kind] = ids[0] if ids else None
    return picked
