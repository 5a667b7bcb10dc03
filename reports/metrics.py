"""Metric definitions, each written once with its text beside it (../shared/METRICS.md is the
contract). Pages, snapshots, gates and the API ask these for numbers and never compute a rate
themselves."""

from datetime import datetime

from django.db.models import Count

from accounts.selectors import account_counts_by_channel
from routing.choices import EscalationKind
from routing.models import Escalation


def engineering_escalations_per_100_accounts(*, since: datetime, until: datetime) -> dict[str, dict]:
    """Engineering escalations in [since, until) per 100 accounts, per channel code.

    Numerator: escalations of kind ``engineering`` created in the window, by the channel of
    their account. Denominator: every account of the channel, whenever it signed up. A channel
    without accounts has no rate (None), never 0.
    """
    escalations = dict(
        Escalation.objects.filter(
            kind=EscalationKind.ENGINEERING, created_at__gte=since, created_at__lt=until
        )
        .values_list("channel__code")
        .annotate(n=Count("id"))
        .values_list("channel__code", "n")
    )
    report = {}
    for code, account_count in sorted(account_counts_by_channel().items()):
        count = escalations.get(code, 0)
        report[code] = {
            "accounts": account_count,
            "escalations": count,
            "per_100_accounts": round(100 * count / account_count, 2) if account_count else None,
        }
    return report
