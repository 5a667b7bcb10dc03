from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def import_models(self):
        super().import_models()
        # late import: the event intake's refusals and the event flags' basis live in modules of
        # their own (accounts/models.py is at its size limit); importing them registers them.
        import accounts.eventflags  # noqa: F401
        import accounts.rejections  # noqa: F401

    def ready(self):
        # The framework never imports accounts: accounts tells it here what it needs to know.
        # Billing's console pages, guarded actions and Celery tasks register on import; Celery's
        # autodiscovery looks only for accounts.tasks, not accounts.billing.tasks.
        from accounts import demo, demo_actions, exception_actions  # noqa: F401
        from accounts import panels as accounts_panels
        from accounts.billing import actions, admin, crm, tasks  # noqa: F401
        from accounts.billing import demo as billing_demo
        from accounts.models import Account, OpsException
        from accounts.pages import ACCOUNT_PAGE
        from accounts.selectors import my_exceptions, open_exceptions, search_accounts_and_exceptions
        from accounts.services.exceptions import exception_fix_applied
        from opsconsole import demo as demo_seeders
        from opsconsole import home, navigation, outbox_destinations, panels
        from opsconsole.actions import targets

        panels.declare_page(ACCOUNT_PAGE)
        # The console's home: my exceptions, and finding an account or an exception.
        home.register_work(my_exceptions)
        home.register_search(search_accounts_and_exceptions)
        panels.register(home.HOME_PAGE, accounts_panels.home_team_exceptions_panel)
        navigation.place(navigation.WORK, "accounts.OpsException", rank=20)
        navigation.place(
            navigation.ACCOUNTS,
            "accounts.Account",
            "accounts.AccountEvent",
            "accounts.ProvisioningStep",
            "accounts.EntitlementOverride",
            "accounts.Channel",
        )
        navigation.place(navigation.ROUTING_SETUP, "accounts.ReasonCode", rank=50)
        navigation.place(navigation.BILLING, "accounts.BillingDrift", "accounts.ReconciliationRun")
        targets.register(
            Account,
            public_id="external_id",
            account_of=lambda account: account,
            runbook_cases=open_exceptions,
        )
        targets.register(
            OpsException,
            account_of=lambda exception: exception.account,
            runbook_cases=lambda exception: [exception],
            fix_applied=exception_fix_applied,
        )
        outbox_destinations.register(
            crm.OUTBOX_DESTINATION, label="CRM (CRM_ADAPTER)", sender=crm.crm_outbox_sender
        )

        demo_seeders.register(
            "accounts",
            demo.seed_demo,
            app_label=self.label,
            options={
                "--accounts": {
                    "type": int,
                    "default": demo.DEMO_ACCOUNTS,
                    "help": "How many demo accounts (tests use a few).",
                }
            },
        )
        demo_seeders.register(
            "actions", demo_actions.seed_demo, app_label=self.label, stage=demo_seeders.WALK_THROUGH
        )
        demo_seeders.register(
            "billing", billing_demo.seed_demo, app_label=self.label, stage=demo_seeders.WALK_THROUGH
        )
