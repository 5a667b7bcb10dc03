from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        from opsconsole import panels
        from reports.panels import engineering_escalations_panel
        from routing.panels import RULE_REVIEW

        # The weekly rule review (routing's page) shows the escalation rate beside the rules.
        panels.register(RULE_REVIEW, engineering_escalations_panel)
