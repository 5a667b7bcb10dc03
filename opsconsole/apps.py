from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsConsoleAdminConfig(AdminConfig):
    default_site = "opsconsole.admin_site.OpsConsoleAdminSite"

    def ready(self):
        from opsconsole import admin_dates

        super().ready()
        # Every admin page shows dates and times in the house format (opsconsole/admin_dates.py).
        admin_dates.install()


class OpsConsoleConfig(AppConfig):
    name = "opsconsole"
    verbose_name = "Ops console"

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from opsconsole import demo, home, navigation, outbox, outbox_destinations, panels, roles
        from opsconsole.actions import (
            permissions,
            recorder,  # noqa: F401  (connects the change recorder)
        )
        from opsconsole.staffauth import signals as staffauth_signals

        # The permission rows of the registered actions, made after this app's own (and
        # before the roles below are synced), so an action needs no migration here.
        post_migrate.connect(
            permissions.action_permissions_create, sender=self, dispatch_uid="opsconsole-action-permissions"
        )
        # New models bring new permissions after the roles migration ran; keep the roles whole.
        # Each app's permissions are created by its own post_migrate, so sync after every app
        # (not only this one, which runs before accounts, routing, ... have their permissions).
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="opsconsole-sync-roles")

        outbox_destinations.register(
            outbox_destinations.PRODUCT, label="Product (PRODUCT_WEBHOOK_URL)", sender=outbox.product_sender
        )
        demo.register("opsconsole", demo.seed_demo, app_label=self.label)
        # Apps add their panels to the home page (my queues, a lead's breaches).
        panels.declare_page(home.HOME_PAGE)
        # The sidebar by what people do; the rest of the framework's pages are Admin internals.
        navigation.place(navigation.WORK, "opsconsole.ActionApproval", rank=30)
        navigation.place(navigation.WORK, "opsconsole.ActionRun", rank=60)
        navigation.place(navigation.ROUTING_SETUP, "opsconsole.Runbook", rank=60)
        # The login audit listens to Django's and django-axes' sign-in signals.
        staffauth_signals.connect()

        # Each app declares its guarded actions in <app>/actions.py.
        autodiscover_modules("actions")
        # Every process knows every task, as a worker does, so a service may enqueue one by
        # name (outbox.outbox_schedule) and still run it eagerly when there is no broker.
        autodiscover_modules("tasks")
        # The admin has already autodiscovered by now (its app comes first); add the action pages.
        from opsconsole.actions import admin  # noqa: F401
