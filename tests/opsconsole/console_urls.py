"""The console with account and exception pages carrying the guarded-actions mixin.

The real account admin lives with the accounts app; this stands in for it when it is not
registered, so the action pages can be tested on their own.
"""

from django.contrib import admin
from django.urls import path

from accounts.models import Account, OpsException
from opsconsole.actions.admin import GuardedActionsAdminMixin

for model in (Account, OpsException):
    if not admin.site.is_registered(model):
        admin.site.register(
            model, type(f"{model.__name__}ActionsAdmin", (GuardedActionsAdminMixin, admin.ModelAdmin), {})
        )

urlpatterns = [path("", admin.site.urls)]
