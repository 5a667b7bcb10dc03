"""Content-Security-Policy, enforced: every console page type loads with no violation.

Chromium reports each refused inline script or style, or anything from another origin, as a
``securitypolicyviolation`` event (collected by a script injected before any page script) and
as a console error; both are gathered across the walk and must be empty. The walk covers the
sign-in pages (password, second factor, enrolment), the home page, every registered model's
list, and for each model its first row's change and history pages, an action form, the
approval inbox, the sign-in & security page and the API docs.
"""

import contextlib
import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from accounts.models import OpsException
from tests.browser.conftest import log_in_with_password

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

COLLECT = """
window.__cspViolations = [];
document.addEventListener('securitypolicyviolation', (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__cspViolations.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'} at ${where}`);
});
"""


class Watch:
    def __init__(self, page):
        self.page = page
        self.problems: list[str] = []
        page.add_init_script(COLLECT)
        page.on("console", self.on_console)
        page.on("pageerror", lambda e: self.problems.append(f"{page.url}: error: {e}"))

    def on_console(self, message):
        # A page answering 403 or 404 is reported as a failed load; statuses are checked apart.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.problems.append(f"{self.page.url}: console: {message.text}")

    def visit(self, url: str) -> int:
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        self.collect()
        return response.status if response else 0

    def collect(self):
        for violation in self.page.evaluate("window.__cspViolations || []"):
            self.problems.append(f"{self.page.url}: CSP: {violation}")


def _console_urls() -> list[str]:
    urls = [
        reverse("admin:index"),
        reverse("admin:security"),
        reverse("admin:opsconsole_actionrun_changelist"),
    ]
    for model, _ in admin.site._registry.items():
        opts = model._meta
        urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        for view in ("change", "history"):
            with contextlib.suppress(NoReverseMatch):
                urls.append(reverse(f"admin:{opts.app_label}_{opts.model_name}_{view}", args=[first.pk]))
    exception = OpsException.objects.filter(status="open").first()
    if exception is not None:
        urls.append(
            reverse("admin:opsconsole_action_form", args=["resolve_exception", "opsexception", exception.pk])
        )
    return urls


def test_every_console_page_type_loads_with_the_csp_enforced(
    browser, page, admin_page, make_user, live_server, screenshot
):
    call_command("seed_demo", "--accounts", "20", stdout=io.StringIO())

    # Sign-in pages: the password form, then (a user with no device) the enrolment step.
    other = browser.new_context(base_url=live_server.url)
    newcomer_tab = other.new_page()
    first_steps = Watch(newcomer_tab)
    assert first_steps.visit("/login/") == 200
    log_in_with_password(newcomer_tab, make_user("support"))
    newcomer_tab.wait_for_url("**/login/enrol/**")
    newcomer_tab.wait_for_load_state("load")
    first_steps.collect()
    other.close()

    # The second-factor step (admin_page goes through it), and every console page an ops lead reaches.
    watch = Watch(page)
    admin_page("ops_lead")
    watch.collect()
    watch.problems += first_steps.problems
    statuses = {url: watch.visit(url) for url in _console_urls()}
    screenshot(page, "csp-last-page")

    assert watch.visit("/api/docs/") == 200
    page.wait_for_selector(".opblock", timeout=15_000)
    watch.collect()

    assert not [u for u, s in statuses.items() if s >= 500], statuses
    assert len(statuses) > 40
    assert not watch.problems, "\n".join(watch.problems)


def test_the_policy_is_sent_on_every_page(client):
    response = client.get("/login/", secure=True)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "publickey-credentials-get=(self)" in response["Permissions-Policy"]
    assert "publickey-credentials-create=(self)" in response["Permissions-Policy"]
