from django.contrib import admin
from django.db.models.base import ModelBase
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils import timezone

from opsconsole import app_pages, home, navigation, panels
from opsconsole.actions.selectors import approvals_waiting_for
from opsconsole.adminkit import RestrictedAdminMixin
from opsconsole.staffauth import security, views
from opsconsole.staffauth.session import second_factor_satisfied

# Approvals listed on the home page, the oldest first; the inbox has the rest.
HOME_APPROVALS = 10


def restricted_admin(model, admin_class):
    restrictable = hasattr(model._default_manager.all(), "restrict")
    stock_queryset = admin_class.get_queryset is admin.ModelAdmin.get_queryset
    if not (restrictable and stock_queryset) or issubclass(admin_class, RestrictedAdminMixin):
        return admin_class
    return type(
        admin_class.__name__, (RestrictedAdminMixin, admin_class), {"__module__": admin_class.__module__}
    )


class OpsConsoleAdminSite(admin.AdminSite):
    site_header = "Ops console"
    site_title = "Ops console"
    index_title = "My work"
    index_template = "opsconsole/home.html"
    # The console is the site: a "View site" link would lead back to this page.
    site_url = None

    def index(self, request, extra_context=None):
        """My work: the person's tickets and exceptions (overdue first, then by due time), the
        approvals waiting for them, and the panels apps add (their queues' figures, breaches)."""
        now = timezone.now()
        approvals = approvals_waiting_for(request.user)
        context = {
            "now": now,
            "work": home.my_work(request.user, now=now),
            "approvals": list(approvals[:HOME_APPROVALS]),
            "approval_count": approvals.count(),
            "home_panels": panels.render(home.HOME_PAGE, request),
            **(extra_context or {}),
        }
        return super().index(request, context)

    def search_view(self, request):
        query = request.GET.get("q", "").strip()
        context = {
            **self.each_context(request),
            "title": f"Search: {query}" if query else "Search",
            "query": query,
            "hits": home.search(request.user, query),
            "min_length": home.SEARCH_MIN_LENGTH,
        }
        request.current_app = self.name
        return TemplateResponse(request, "opsconsole/search.html", context)

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every page of a model with ``restrict`` starts from it: an admin that does not choose
        its own queryset gets ``RestrictedAdminMixin``, so no page lists every row by default."""
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else list(model_or_iterable)
        for model in models:
            super().register(model, restricted_admin(model, admin_class or admin.ModelAdmin), **options)

    def has_permission(self, request):
        """Every console page needs an active staff user whose session passed a second factor."""
        return super().has_permission(request) and second_factor_satisfied(request.user)

    def get_app_list(self, request, app_label=None):
        """The models of each app, after the pages the app registered (``opsconsole.app_pages``),
        grouped in the sidebar and on the home page by what people do (``navigation``), with the
        page the request is on marked ``current``; an app's own index page (``/accounts/``)
        keeps Django's list."""
        app_list = super().get_app_list(request, app_label)
        for app in app_list:
            app["models"] = app_pages.entries(app["app_label"], request.user) + app["models"]
        if app_label:
            return app_list
        return navigation.mark_current(navigation.grouped(app_list, request.user), request.path)

    def login(self, request, extra_context=None):
        """The password step. A staff session past it but not past its second factor goes on to
        the second step (``/login/verify/``), keeping where it was going."""
        user = request.user
        if user.is_authenticated and user.is_active and user.is_staff and not self.has_permission(request):
            return redirect(views.with_next("admin:login_verify", request))
        response = super().login(request, extra_context)
        if request.method == "POST" and response.status_code == 302 and not self.has_permission(request):
            return redirect(views.with_next("admin:login_verify", response["Location"]))
        return response

    def get_urls(self):
        def step(view):
            return views.site_view(view, self)

        return [
            path("login/verify/", step(views.verify_view), name="login_verify"),
            path("login/enrol/", step(views.enrol_view), name="login_enrol"),
            path("login/enrol/passkey-added/", step(views.passkey_added_view), name="login_passkey_added"),
            path("login/recovery-codes/", step(views.recovery_codes_view), name="login_recovery_codes"),
            path("login/leave/", views.leave_view, name="login_leave"),
            path("security/", self.admin_view(step(security.security_view)), name="security"),
            path("search/", self.admin_view(self.search_view), name="search"),
            *super().get_urls(),
        ]
