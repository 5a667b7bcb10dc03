from django.apps import AppConfig


class RoutingConfig(AppConfig):
    name = "routing"

    def ready(self):
        # Registration with the framework, which never imports routing.
        from opsconsole import demo as demo_seeders
        from opsconsole.actions import targets
        from routing import (
            demo,
            tasks,  # noqa: F401  (registers the tasks services queue by name)
        )
        from routing.models import Ticket

        # Working a ticket goes through guarded actions (routing/actions.py); a run on a ticket is
        # recorded against its account, when intake matched one.
        targets.register(Ticket, account_of=lambda ticket: ticket.account)
        demo_seeders.register("routing", demo.seed_demo, app_label=self.label)
