"""One account's timeline for the gate meeting, on screen and printable (``?print=1``: the
page without the console's frame; a print stylesheet does the same for a printed page)."""

from django.conf import settings
from django.contrib import admin
from django.http import Http404
from django.template.response import TemplateResponse

from accounts.models import Account
from reports.funnel.selectors import journeys
from reports.pages.common import guarded
from reports.timelines.selectors import gate_timeline


@guarded
def timeline_view(request, account_id: int):
    account = Account.objects.restrict(request.user).select_related("channel").filter(pk=account_id).first()
    if account is None:
        raise Http404("No such account.")
    (journey,) = journeys(Account.objects.filter(pk=account.pk))
    rows = gate_timeline(account, first_staff_touch=journey.touch)
    context = {
        **admin.site.each_context(request),
        "is_nav_sidebar_enabled": False,  # the tables need the width
        "title": f"Timeline of {account.name}",
        "account": account,
        "rows": rows,
        "touch": journey.touch,
        "touch_step": journey.touch_step,
        "gap_hours": settings.REPORTS_TIMELINE_GAP_HOURS,
        "long_gaps": sum(1 for r in rows if r.long_gap),
    }
    template = (
        "reports/constraints/timeline_print.html"
        if request.GET.get("print")
        else "reports/constraints/timeline.html"
    )
    return TemplateResponse(request, template, context)
