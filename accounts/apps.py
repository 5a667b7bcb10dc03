from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Billing sync's console pages live beside accounts/admin.py, not inside it.
        from accounts import billing_admin  # noqa: F401
