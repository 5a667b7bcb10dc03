"""A console with account and exception pages carrying the guarded-actions mixin.

The real account admin lives with the accounts app; this site stands in for it, on its own
AdminSite (named "admin" like the real one) so the global admin registry is left untouched.
"""

from django.contrib import admin
from django.urls import path

from accounts.models import Account, OpsException
from opsconsole.actions.admin import GuardedActionsAdminMixin
from opsconsole.admin_site import OpsConsoleAdminSite

site = OpsConsoleAdminSite(name="admin")
for model, model_admin in admin.site._registry.items():
    if model not in (Account, OpsException):
        site.register(model, type(model_admin))
for model in (Account, OpsException):
    site.register(
        model, type(f"{model.__name__}ActionsAdmin", (GuardedActionsAdminMixin, admin.ModelAdmin), {})
    )

urlpatterns = [path("", site.urls)]
