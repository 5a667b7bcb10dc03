"""Console pages for the shared machinery. Credentials, the idempotency ledger and the failed
Celery tasks are records: read-only here, written by their services."""

from django.contrib import admin

from opsconsole.adminkit import ReadOnlyAdminMixin, ReadOnlyHistoryAdmin, RestrictedAdminMixin
from opsconsole.models import IdempotencyRecord, ServiceToken, TaskFailure
from opsconsole.staffauth import admin as staffauth_admin  # noqa: F401  (the sign-in pages)


@admin.register(ServiceToken)
class ServiceTokenAdmin(RestrictedAdminMixin, ReadOnlyHistoryAdmin):
    # Only the prefix identifies a key; the hash is never shown (and the key is never stored).
    list_display = ("name", "user", "key_prefix", "last_used_at", "expires_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "user__username", "key_prefix")
    fields = (
        "name",
        "user",
        "scopes",
        "key_prefix",
        "created_at",
        "rotated_at",
        "previous_key_prefix",
        "previous_key_expires_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)


@admin.register(IdempotencyRecord)
class IdempotencyRecordAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("scope", "key", "principal", "state", "response_status", "created_at", "completed_at")
    list_filter = ("scope", "state")
    search_fields = ("key", "principal__username")
    fields = (
        "principal",
        "scope",
        "key",
        "fingerprint",
        "state",
        "response_status",
        "response_body",
        "created_at",
        "completed_at",
    )
    list_select_related = ("principal",)
    date_hierarchy = "created_at"


@admin.register(TaskFailure)
class TaskFailureAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    """Celery tasks that failed or asked to be retried (``opsconsole.task_failures``); ops
    leads only (the Admin section), as the other internals."""

    list_display = (
        "occurred_at",
        "task_name",
        "kind",
        "attempt",
        "exception_class",
        "short_message",
        "task_id",
    )
    list_filter = ("kind",)
    search_fields = ("=task_id", "^task_name", "=request_id")
    search_help_text = "Task id or request id (exact), or task name (starts with)."
    date_hierarchy = "occurred_at"
    fields = (
        "occurred_at",
        "task_name",
        "task_id",
        "attempt",
        "kind",
        "exception_class",
        "message",
        "args_summary",
        "request_id",
    )

    @admin.display(description="Message")
    def short_message(self, obj):
        return obj.message if len(obj.message) <= 80 else obj.message[:79] + "…"
