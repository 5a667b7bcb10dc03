"""Routing's panel on the account page: {% load routing_panels %}{% account_tickets_panel original %}."""

from django import template

from routing.selectors.tickets import account_escalations, account_tickets

register = template.Library()

TICKETS_ON_ACCOUNT_PAGE = 10


@register.inclusion_tag("routing/account_tickets_panel.html", takes_context=True)
def account_tickets_panel(context, account):
    user = context["request"].user
    return {
        "tickets": list(account_tickets(account=account, user=user)[:TICKETS_ON_ACCOUNT_PAGE]),
        "escalations": list(account_escalations(account=account, user=user)),
    }
