from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        from opsconsole.actions import targets
        from routing import tasks  # noqa: F401  (registers the tasks services queue by name)
        from routing.models import Ticket

        # Working a ticket goes through guarded actions (routing/actions.py); a run on a ticket is
        # recorded against its account, when intake matched one.
        targets.register(Ticket, account_of=lambda ticket: ticket.account)
