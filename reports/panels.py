"""Report panels shown on other apps' pages. Each is registered from ``ReportsConfig.ready()``
with the page's owner (the lower layer), so the lower layer never imports reports."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from reports.metrics import engineering_escalations_per_100_accounts

ESCALATION_WINDOW = timedelta(days=28)


def engineering_escalations_panel(request, **_page) -> str:
    """Engineering escalations per 100 accounts over the last four weeks, per channel."""
    now = timezone.now()
    escalations = engineering_escalations_per_100_accounts(since=now - ESCALATION_WINDOW, until=now)
    return render_to_string(
        "reports/engineering_escalations_panel.html", {"escalations": escalations}, request=request
    )
