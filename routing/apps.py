from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Registration with the framework and subscriptions to accounts' news: neither lower
        # layer ever imports routing.
        from accounts import help as account_help
        from accounts.billing import payment_failed
        from accounts.pages import ACCOUNT_PAGE
        from opsconsole import demo as demo_seeders
        from opsconsole import home, navigation, outbox_destinations, panels
        from opsconsole.actions import targets
        from routing import (
            demo,
            receivers,
            tasks,  # noqa: F401  (registers the tasks services queue by name)
        )
        from routing import panels as routing_panels
        from routing.models import KnownIssue, Ticket
        from routing.selectors import work
        from routing.support import actions as support_actions  # noqa: F401  (registers them)
        from routing.support import demo as support_demo
        from routing.support import helpdesk
        from routing.support.selectors import help_url_for

        # Working a ticket goes through guarded actions (routing/actions.py); a run on a ticket is
        # recorded against its account, when intake matched one.
        targets.register(Ticket, account_of=lambda ticket: ticket.account)
        targets.register(KnownIssue)
        # Tier 0: the provisioning status points a blocked customer at the help article.
        account_help.register_finder(help_url_for)
        outbox_destinations.register(
            helpdesk.OUTBOX_DESTINATION,
            label="Help desk (HELPDESK_ADAPTER)",
            sender=helpdesk.helpdesk_outbox_sender,
        )
        demo_seeders.register("routing", demo.seed_demo, app_label=self.label)
        demo_seeders.register("support", support_demo.seed_demo, app_label=self.label)
        panels.declare_page(routing_panels.RULE_REVIEW)
        panels.register(ACCOUNT_PAGE, routing_panels.account_tickets_panel)
        # The console's home: my tickets, my queues' figures (a lead's breaches), finding a ticket.
        home.register_work(work.my_tickets)
        home.register_search(work.search_tickets)
        panels.register(home.HOME_PAGE, routing_panels.home_queues_panel)
        navigation.place(navigation.WORK, "routing.Ticket", rank=10)
        navigation.place(
            navigation.WORK, "routing.Escalation", "routing.SlaBreach", "routing.KnownIssue", rank=40
        )
        navigation.place(
            navigation.ROUTING_SETUP, "routing.HelpArticle", "routing.ProductNote", "routing.Release", rank=40
        )
        navigation.place(
            navigation.ROUTING_SETUP,
            "routing.Queue",
            "routing.RuleSet",
            "routing.RoutingRule",
            "routing.Backtest",
            "routing.RoutingDecision",
            "routing.SlaPolicy",
            "routing.BusinessCalendar",
            rank=0,
        )
        # Accounts may not import routing: it says a payment failed, and routing opens the ticket.
        payment_failed.connect(receivers.payment_failure_ticket_open, dispatch_uid="routing.payment_failed")
