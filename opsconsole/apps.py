from django.apps import AppConfig
from django.contrib.admin.apps import AdminConfig


class OpsConsoleAdminConfig(AdminConfig):
    default_site = "opsconsole.admin_site.OpsConsoleAdminSite"


class OpsConsoleConfig(AppConfig):
    name = "opsconsole"
    verbose_name = "Ops console"

    def ready(self):
        from django.db.models.signals import post_migrate

        from opsconsole import roles

        # New models bring new permissions after the roles migration ran; keep the roles whole.
        # Each app's permissions are created by its own post_migrate, so sync after every app
        # (not only this one, which runs before accounts, routing, ... have their permissions).
        post_migrate.connect(roles.sync_roles_after_migrate, dispatch_uid="opsconsole-sync-roles")
