"""Send reads of the reports app to the replica when one is configured."""

from django.conf import settings

REPLICA_ALIAS = "replica"
REPLICA_READ_APPS = {"reports"}


class ReportsReplicaRouter:
    def db_for_read(self, model, **hints):
        if model._meta.app_label in REPLICA_READ_APPS and REPLICA_ALIAS in settings.DATABASES:
            return REPLICA_ALIAS
        return None

    def db_for_write(self, model, **hints):
        return "default"

    def allow_relation(self, obj1, obj2, **hints):
        return True

    def allow_migrate(self, db, app_label, **hints):
        return db == "default"
