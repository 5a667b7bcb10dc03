"""Routing's panel on the account page: {% load routing_panels %}{% account_tickets_panel original %}."""

from django import template

from routing import selectors

register = template.Library()

TICKETS_ON_ACCOUNT_PAGE = 10


@register.inclusion_tag("routing/account_tickets_panel.html", takes_context=True)
def account_tickets_panel(context, account):
    user = context["request"].user
    return {
        "tickets": list(selectors.account_tickets(account=account, user=user)[:TICKETS_ON_ACCOUNT_PAGE]),
        "escalations": list(selectors.account_escalations(account=account)),
    }
