"""Routing's panels on lower layers' pages (opsconsole/panels.py), and the pages it owns."""

from django.template.loader import render_to_string

from routing.selectors.tickets import account_escalations, account_tickets

RULE_REVIEW = "routing.rule_review"
TICKETS_ON_ACCOUNT_PAGE = 10


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
