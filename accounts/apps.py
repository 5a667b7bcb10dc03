from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Billing sync's console pages and guarded fixes live beside accounts/admin.py and
        # accounts/actions.py, not inside them.
        from accounts.billing import actions, admin, tasks  # noqa: F401
