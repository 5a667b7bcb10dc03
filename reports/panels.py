"""Report panels shown on other apps' pages. Each is registered from ``ReportsConfig.ready()``
with the page's owner (the lower layer), so the lower layer never imports reports."""

from datetime import timedelta

from django.template.loader import render_to_string
from django.utils import timezone

from reports.metrics import METRICS, channel_report

ESCALATIONS = "escalations_per_100"
# The signup cohort the rule review shows: the last eight weeks, today included.
ESCALATION_COHORT = timedelta(weeks=8)


def engineering_escalations_panel(request, **_page) -> str:
    """Engineering escalations per 100 accounts (the metric's own definition: escalations
    within 30 days of signup, over the accounts signed up at least 30 days ago), per channel,
    for the accounts that signed up in the last eight weeks."""
    now = timezone.now()
    today = now.date()
    report = channel_report(
        since=today - ESCALATION_COHORT, until=today + timedelta(days=1), now=now, metrics=[ESCALATIONS]
    )
    rows = [(row.code, row.metrics[ESCALATIONS]) for row in report.channels if row.is_channel]
    context = {"rows": rows, "definition": METRICS[ESCALATIONS].definition, "since": report.since}
    return render_to_string("reports/engineering_escalations_panel.html", context, request=request)
