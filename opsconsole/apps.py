from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsConsoleAdminConfig(AdminConfig):
    default_site = "opsconsole.admin_site.OpsConsoleAdminSite"


class OpsConsoleConfig(AppConfig):
    name = "opsconsole"
    verbose_name = "Ops console"

    def ready(self):
        from django.db.models.signals import post_migrate
        from django.utils.module_loading import autodiscover_modules

        from opsconsole import roles
        from opsconsole.actions import recorder  # noqa: F401  (connects the change recorder)

        # New models bring new permissions after the roles migration ran; keep the roles whole.
        # Connected for every app (not only this one): after a flush, each app's permissions
        # are created in its own post_migrate, and apps after this one would be missed.
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="opsconsole_sync_roles")

        # Each app declares its guarded actions in <app>/actions.py.
        autodiscover_modules("actions")
