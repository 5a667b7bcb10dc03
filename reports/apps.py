from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from reports.panels import engineering_escalations_panel
        from routing import panels as routing_panels

        # The weekly rule review (routing's page) shows the escalation rate beside the rules.
        routing_panels.register(routing_panels.RULE_REVIEW, engineering_escalations_panel)
