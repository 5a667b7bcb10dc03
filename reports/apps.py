from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"

    def ready(self):
        # Reports sits above accounts, routing and the framework: they announce their writes by
        # signal and never import reports. The facts follow in the writers' transactions.
        from django.db.models.signals import post_delete, post_save, pre_delete

        from accounts import signals as accounts_signals
        from accounts.models import Account, OpsException, StripeEvent
        from opsconsole import app_pages, list_filters, navigation, panels
        from opsconsole import signals as opsconsole_signals
        from opsconsole.models import ActionRun
        from opsconsole.roles import VIEW_DASHBOARD
        from reports import facts, tasks  # noqa: F401  (tasks: registers them by name)
        from reports.dashboard.cell_filter import CohortCellFilter
        from reports.panels import engineering_escalations_panel
        from routing import signals as routing_signals
        from routing.panels import RULE_REVIEW

        subscriptions = [
            (accounts_signals.account_created, facts.account_created),
            (post_save, facts.account_saved, Account),
            (pre_delete, facts.account_deleting, Account),
            (post_delete, facts.account_deleted, Account),
            (opsconsole_signals.rows_updated, facts.rows_updated),
            (accounts_signals.account_events_recorded, facts.account_events_recorded),
            (accounts_signals.exception_resolved, facts.exception_resolved),
            (routing_signals.ticket_created, facts.ticket_created),
            (routing_signals.escalation_created, facts.escalation_created),
            (opsconsole_signals.action_run_finished, facts.action_run_finished),
            # The journey's first staff touch and first change (reports.funnel): an exception
            # opened, a person's action run, a refund or dispute processed for an account.
            (post_save, facts.exception_saved, OpsException),
            (post_save, facts.action_run_saved, ActionRun),
            (post_save, facts.stripe_event_saved, StripeEvent),
        ]
        for signal, receiver, *sender in subscriptions:
            signal.connect(
                receiver,
                sender=sender[0] if sender else None,
                dispatch_uid=f"reports.facts.{receiver.__name__}",
            )

        # Every report page under Reports, for every role that may read them (an app page's
        # label is "<app>.<url name with _ for :>"; opsconsole.app_pages).
        navigation.place(
            navigation.REPORTS,
            "reports.reports_dashboard",
            "reports.reports_cohorts",
            "reports.admin_reports_support",
            "reports.admin_reports_constraints_index",
            "reports.MetricSnapshot",
            # The cost model's inputs (loaded hourly costs, spend per channel) beside the pages
            # that price with them.
            "reports.CostSettings",
        )

        # The weekly rule review (routing's page) shows the escalation rate beside the rules.
        panels.register(RULE_REVIEW, engineering_escalations_panel)

        # The dashboard and the heat map under "Reports" on the index; a heat-map cell opens the
        # account list filtered to exactly its accounts.
        app_pages.register("reports", "Channel dashboard", "reports:dashboard", permission=VIEW_DASHBOARD)
        app_pages.register("reports", "Cohorts by signup week", "reports:cohorts", permission=VIEW_DASHBOARD)
        # The support metrics by channel, queue, tier or via (reports/support_page.py).
        app_pages.register("reports", "Support", "admin:reports_support", permission=VIEW_DASHBOARD)
        # From numbers to a ranked constraint list (issue 12): failure reasons, constraints, data
        # quality, the cost model, the funnel, timelines, operational drag, refunds.
        app_pages.register(
            "reports", "Constraints", "admin:reports_constraints_index", permission=VIEW_DASHBOARD
        )
        list_filters.register("accounts.account", CohortCellFilter)

        # The constraint pages' demo data (channel spends, refused events, refunds).
        from opsconsole import demo as demo_seeders
        from reports import demo

        demo_seeders.register(
            "constraints", demo.seed_demo, app_label=self.label, stage=demo_seeders.WALK_THROUGH
        )
