"""What the gates pages share: read-only model pages whose writes go through the services."""

from django.contrib import messages
from django.http import HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse

from opsconsole.adminkit import HistoryAdmin, ReadOnlyAdminMixin, RestrictedAdminMixin, ServiceCallAdminMixin


class GatesPageAdmin(RestrictedAdminMixin, ReadOnlyAdminMixin, ServiceCallAdminMixin, HistoryAdmin):
    """A page per object, drawn by ``page_context``; its forms post to ``act`` URLs."""

    page_template: str

    def render_page(self, request, obj, **context):
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "object": obj,
            "title": str(obj),
            **context,
        }
        return TemplateResponse(request, self.page_template, context)

    def posted(self, request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return None

    def back(self, request, url, done: str | None = None):
        if done and not getattr(request, "_service_refused", False):
            self.message_user(request, done, messages.SUCCESS)
        return HttpResponseRedirect(url)
