from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Registration with the framework and subscriptions to accounts' news: neither lower
        # layer ever imports routing.
        from accounts.billing import payment_failed
        from opsconsole import demo as demo_seeders
        from opsconsole.actions import targets
        from routing import (
            demo,
            receivers,
            tasks,  # noqa: F401  (registers the tasks services queue by name)
        )
        from routing.models import Ticket

        # Working a ticket goes through guarded actions (routing/actions.py); a run on a ticket is
        # recorded against its account, when intake matched one.
        targets.register(Ticket, account_of=lambda ticket: ticket.account)
        demo_seeders.register("routing", demo.seed_demo, app_label=self.label)
        # Accounts may not import routing: it says a payment failed, and routing opens the ticket.
        payment_failed.connect(receivers.payment_failure_ticket_open, dispatch_uid="routing.payment_failed")
