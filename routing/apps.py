from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        from accounts.billing import payment_failed
        from opsconsole.actions import targets
        from routing import (
            receivers,
            tasks,  # noqa: F401  (registers the tasks services queue by name)
        )
        from routing.models import Ticket

        # Working a ticket goes through guarded actions (routing/actions.py); a run on a ticket is
        # recorded against its account, when intake matched one.
        targets.register(Ticket, account_of=lambda ticket: ticket.account)
        # Accounts may not import routing: it says a payment failed, and routing opens the ticket.
        payment_failed.connect(receivers.payment_failure_ticket_open, dispatch_uid="routing.payment_failed")
