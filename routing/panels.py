"""Routing's panels on lower layers' pages (opsconsole/panels.py), and the pages it owns."""

from django.template.loader import render_to_string

from routing.selectors.tickets import account_escalations, account_tickets
from routing.selectors.work import breaches_today, is_lead, my_queue_figures

RULE_REVIEW = "routing.rule_review"
TICKETS_ON_ACCOUNT_PAGE = 10
HOME_BREACHES = 15


def account_tickets_panel(request, *, account, **_page) -> str:
    """The account's tickets in the queues the user works, and its escalations they may see."""
    user = request.user
    return render_to_string(
        "routing/account_tickets_panel.html",
        {
            "tickets": list(account_tickets(account=account, user=user)[:TICKETS_ON_ACCOUNT_PAGE]),
            "escalations": list(account_escalations(account=account, user=user)),
        },
        request=request,
    )


def home_queues_panel(request, **_page) -> str:
    """On the console's home: the figures of the queues the user works, and for a lead the
    breaches detected today."""
    user = request.user
    return render_to_string(
        "routing/home_queues_panel.html",
        {
            "figures": my_queue_figures(user),
            "is_lead": is_lead(user),
            "breaches": list(breaches_today(user)[:HOME_BREACHES]),
            "breach_count": breaches_today(user).count(),
        },
        request=request,
    )
