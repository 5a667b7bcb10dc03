"""Building blocks every console admin page shares: read-only audit pages, history without
revert, service calls that turn refusals into messages, and status badges."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from opsconsole.errors import ApplicationError

# Tones map to the colours in opsconsole/static/opsconsole/console.css.
TONES = ("ok", "warn", "bad", "info", "muted")


def badge(text: str, tone: str = "muted"):
    """A coloured pill; the admin uses it for every status so one colour means one thing."""
    if tone not in TONES:
        tone = "muted"
    return format_html('<span class="oc-badge oc-badge-{}">{}</span>', tone, text)


class ReadOnlyAdminMixin:
    """For audit rows and timelines: anyone with the view permission reads, nobody writes."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class HistoryAdmin(SimpleHistoryAdmin):
    """simple-history's pages, without "revert": a revert would write the model directly and
    skip the services (and their checks) that own every change."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        # simple-history saves a POSTed revert even when the button is hidden; refuse it here.
        if request.method != "GET":
            raise PermissionDenied("History is read-only.")
        return super().history_form_view(request, object_id, version_id, extra_context)


class ServiceCallAdminMixin:
    """Run a service for a request and show a refusal as a message instead of a 500."""

    def call_service(self, request, fn, /, **kwargs):
        try:
            return fn(actor=request.user, **kwargs)
        except ApplicationError as exc:
            request._service_refused = True
            self.message_user(request, exc.message, messages.ERROR)
            return None

    def message_user(self, request, message, level=messages.INFO, *args, **kwargs):
        # After a refusal, Django would still announce "changed successfully"; don't.
        if getattr(request, "_service_refused", False) and level == messages.SUCCESS:
            return
        super().message_user(request, message, level, *args, **kwargs)


class ReadOnlyHistoryAdmin(ReadOnlyAdminMixin, HistoryAdmin):
    pass
