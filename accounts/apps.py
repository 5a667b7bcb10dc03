from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self):
        # Billing's console pages, guarded actions and Celery tasks register on import; Celery's
        # autodiscovery looks only for accounts.tasks, not accounts.billing.tasks.
        from accounts.billing import actions, admin, tasks  # noqa: F401
