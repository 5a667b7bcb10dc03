"""Console pages for ops leads: the login audit (and its CSV export), the lockouts they can lift,
and the staff list where they reset someone's second factors. Writes go through the services."""

from axes.helpers import get_cool_off
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.http import StreamingHttpResponse
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone
from django.utils.html import format_html
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp_webauthn.models import WebAuthnCredential

from opsconsole.adminkit import ReadOnlyAdminMixin, RestrictedAdminMixin, badge, fact_value, facts_table
from opsconsole.errors import ApplicationError
from opsconsole.staffauth.models import Lockout, LoginEvent, LoginEventKind, StaffMember
from opsconsole.staffauth.selectors import (
    describe_second_factors,
    is_locked,
    lock_window_start,
    lockouts_visible_to,
    login_events_csv,
)
from opsconsole.staffauth.services import lockout_lift, staff_devices_reset
from opsconsole.staffauth.session import client_of

CONSOLE_CSS = {"all": ("opsconsole/console.css", "opsconsole/staffauth.css")}
KIND_TONES = {
    LoginEventKind.LOGIN: "info",
    LoginEventKind.VERIFIED: "ok",
    LoginEventKind.LOGOUT: "muted",
    LoginEventKind.LOGIN_FAILED: "warn",
    LoginEventKind.VERIFY_FAILED: "warn",
    LoginEventKind.ENROL_FAILED: "warn",
    LoginEventKind.LOCKED_OUT: "bad",
    LoginEventKind.DEVICES_RESET: "bad",
    LoginEventKind.LOCKOUT_LIFTED: "info",
    LoginEventKind.ENROLLED: "ok",
    LoginEventKind.RECOVERY_CODES: "ok",
}


@admin.register(LoginEvent)
class LoginEventAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("when", "event", "username", "actor", "ip_address", "details", "user_agent_short")
    list_filter = ("kind", "at")
    search_fields = ("^username", "=ip_address")
    search_help_text = "Username (starts with) or exact IP address."
    list_select_related = ("actor",)
    show_full_result_count = False
    change_list_template = "opsconsole/staffauth/loginevent_change_list.html"
    fields = ("at", "kind", "user", "username", "actor", "ip_address", "user_agent", "details_table")
    readonly_fields = fields

    class Media:
        css = CONSOLE_CSS

    @admin.display(description="Time", ordering="at")
    def when(self, obj):
        return timezone.localtime(obj.at).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description="Event", ordering="kind")
    def event(self, obj):
        return badge(obj.get_kind_display(), KIND_TONES.get(obj.kind, "muted"))

    @admin.display(description="User agent")
    def user_agent_short(self, obj):
        text = obj.user_agent
        return format_html('<span title="{}">{}</span>', text, text[:40] + ("…" if len(text) > 40 else ""))

    @admin.display(description="Details")
    def details(self, obj):
        return format_html(
            '<span class="oc-detail">{}</span>',
            "; ".join(f"{key}: {fact_value(value)}" for key, value in obj.detail.items()) or "—",
        )

    @admin.display(description="Details")
    def details_table(self, obj):
        return facts_table(obj.detail)

    def get_urls(self):
        return [
            path(
                "export.csv",
                self.admin_site.admin_view(self.export_view),
                name="opsconsole_loginevent_export",
            ),
            *super().get_urls(),
        ]

    def export_view(self, request):
        """The audit as CSV, with the filters and search of the list the link was on, streamed."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        changelist = self.get_changelist_instance(request)
        events = changelist.get_queryset(request)
        response = StreamingHttpResponse(login_events_csv(events), content_type="text/csv; charset=utf-8")
        stamp = timezone.now().strftime("%Y%m%d-%H%M%S")
        response["Content-Disposition"] = f'attachment; filename="login-audit-{stamp}.csv"'
        response["Cache-Control"] = "no-store"
        return response


def _window_sum(field: str):
    """Failures in the lock window of every attempt row sharing this row's ``field``."""
    return Coalesce(
        Subquery(
            Lockout.objects.filter(**{field: OuterRef(field)}, attempt_time__gte=lock_window_start())
            .order_by()
            .values(field)
            .annotate(total=Sum("failures_since_start"))
            .values("total")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


@admin.register(Lockout)
class LockoutAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Failed logins still counting, and which of them lock a username or an address."""

    list_display = (
        "username",
        "ip_address",
        "failures_since_start",
        "attempt_time",
        "username_status",
        "address_status",
        "lock_ends",
        "user_agent_short",
    )
    search_fields = ("^username", "=ip_address")
    actions = ("lift_for_usernames", "lift_for_addresses")
    fields = ("username", "ip_address", "user_agent", "failures_since_start", "attempt_time", "path_info")
    readonly_fields = fields

    class Media:
        css = CONSOLE_CSS

    def get_queryset(self, request):
        return lockouts_visible_to(request.user).annotate(
            username_failures=_window_sum("username"), address_failures=_window_sum("ip_address")
        )

    def has_lift_permission(self, request):
        return request.user.has_perm("opsconsole.lift_lockout")

    def _status(self, failures):
        if is_locked(failures):
            return badge(f"locked ({failures})", "bad")
        return badge(f"{failures} failed", "warn")

    @admin.display(description="Username lock", ordering="username_failures")
    def username_status(self, obj):
        return self._status(obj.username_failures)

    @admin.display(description="Address lock", ordering="address_failures")
    def address_status(self, obj):
        return self._status(obj.address_failures)

    @admin.display(description="Lock ends")
    def lock_ends(self, obj):
        if not (is_locked(obj.username_failures) or is_locked(obj.address_failures)):
            return "—"
        return timezone.localtime(obj.attempt_time + get_cool_off()).strftime("%H:%M:%S")

    @admin.display(description="User agent")
    def user_agent_short(self, obj):
        return obj.user_agent[:40]

    def _lift(self, request, queryset, field: str):
        lifted = set()
        for value in queryset.values_list(field, flat=True).distinct():
            if value is None or value in lifted:
                continue
            lockout_lift(actor=request.user, client=client_of(request), **{field: value})
            lifted.add(value)
        self.message_user(
            request,
            f"Lifted the lock on {', '.join(sorted(map(str, lifted))) or 'nothing'}.",
            messages.SUCCESS,
        )

    @admin.action(description="Lift the lock on these usernames", permissions=["lift"])
    def lift_for_usernames(self, request, queryset):
        self._lift(request, queryset, "username")

    @admin.action(description="Lift the lock on these addresses", permissions=["lift"])
    def lift_for_addresses(self, request, queryset):
        self._lift(request, queryset, "ip_address")


def _count_of(model, user_path: str, **filters):
    return Coalesce(
        Subquery(
            model.objects.filter(**{user_path: OuterRef("pk")}, **filters)
            .order_by()
            .values(user_path)
            .annotate(n=Count("pk"))
            .values("n")[:1],
            output_field=IntegerField(),
        ),
        Value(0),
    )


@admin.register(StaffMember)
class StaffMemberAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Who can sign in to the console, with which second factors; ops leads reset them here."""

    list_display = ("username", "full_name", "roles", "second_factors", "last_login", "is_active")
    list_filter = ("is_active", "groups")
    search_fields = ("^username", "^email", "^last_name")
    actions = ("reset_second_factors",)
    fields = (
        "username",
        "first_name",
        "last_name",
        "email",
        "roles",
        "second_factors",
        "last_login",
        "is_active",
    )
    readonly_fields = fields

    class Media:
        css = CONSOLE_CSS

    def get_queryset(self, request):
        return (
            StaffMember.objects.restrict(request.user)
            .filter(is_staff=True)
            .prefetch_related("groups")
            .annotate(
                totp_count=_count_of(TOTPDevice, "user", confirmed=True),
                passkey_count=_count_of(WebAuthnCredential, "user", confirmed=True),
                recovery_count=_count_of(StaticToken, "device__user"),
            )
        )

    def has_reset_devices_permission(self, request):
        return request.user.has_perm("opsconsole.reset_devices")

    @admin.display(description="Name")
    def full_name(self, obj):
        return obj.get_full_name() or "—"

    @admin.display(description="Roles")
    def roles(self, obj):
        return ", ".join(sorted(group.name for group in obj.groups.all())) or "—"

    @admin.display(description="Second factors")
    def second_factors(self, obj):
        described = describe_second_factors(
            apps=obj.totp_count, passkeys=obj.passkey_count, recovery_codes=obj.recovery_count
        )
        return described or badge("none: enrols at next login", "warn")

    @admin.action(
        description="Reset second factors (they enrol again at next login)", permissions=["reset_devices"]
    )
    def reset_second_factors(self, request, queryset):
        members = list(queryset)
        if request.POST.get("confirm") != "yes":
            return TemplateResponse(
                request,
                "opsconsole/staffauth/reset_confirm.html",
                {
                    **self.admin_site.each_context(request),
                    "title": "Reset second factors",
                    "members": members,
                    "opts": self.model._meta,
                    "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
                },
            )
        done = []
        for member in members:
            result = self._call(request, member)
            if result is not None:
                done.append(member.get_username())
        if done:
            self.message_user(
                request,
                f"Reset the second factors of {', '.join(done)}; their sessions ended.",
                messages.SUCCESS,
            )
        return None

    def _call(self, request, member):
        try:
            return staff_devices_reset(user=member, actor=request.user, client=client_of(request))
        except ApplicationError as exc:
            self.message_user(request, f"{member.get_username()}: {exc.message}", messages.ERROR)
            return None
