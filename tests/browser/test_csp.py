"""Content-Security-Policy, enforced: every console page type loads with no violation.

Chromium reports each refused inline script or style, or anything from another origin, as a
``securitypolicyviolation`` event (collected by a script injected before any page script) and
as a console error; both are gathered across a walk and must be empty.

- The ops lead's walk loads every console page type: the sign-in pages (password, second
  factor, enrolment), the home page, every registered model's list, and for each model its
  first row's change and history pages, the app pages (dashboard, cohorts, support,
  constraints), an action form, the approval inbox, the sign-in & security page, 403 and 404
  pages, and the API docs.
- Each other staff role (support, billing, engineering, leadership), in its own browser
  context signed in once, loads the page types whose content the role shapes (home, the app
  pages, the security page, the approval inbox, the account, exception and ticket pages with
  their buttons, an action form) where it may open them, asked first without a browser. The
  generic admin pages (lists, history, other models' change pages) are the same templates for
  every role: walking them per role took a third of the suite's time and found nothing the
  ops lead's walk does not.
"""

import contextlib
import io

import pytest
from django.contrib import admin
from django.core.management import call_command
from django.urls import NoReverseMatch, reverse

from accounts.models import OpsException
from opsconsole import app_pages, roles
from opsconsole.history import system_user
from routing.models import Queue
from routing.services import queue_access_grant
from tests.browser.conftest import log_in_with_password, sign_in

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


def _console_urls() -> list[tuple[str, str]]:
    """(page type, address) of every console page type: a model's pages are typed by model."""
    urls = [
        ("home", reverse("admin:index")),
        ("security", reverse("admin:security")),
        ("approvals", reverse("admin:opsconsole_actionrun_changelist")),
    ]
    for page in app_pages.all_pages():
        with contextlib.suppress(NoReverseMatch):
            urls.append((page.url_name, reverse(page.url_name)))
    for model, _ in admin.site._registry.items():
        opts = model._meta
        urls.append((f"{opts.label} list", reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")))
        first = model._default_manager.order_by("pk").first()
        if first is None:
            continue
        for view in ("change", "history"):
            with contextlib.suppress(NoReverseMatch):
                name = f"admin:{opts.app_label}_{opts.model_name}_{view}"
                # Every history page is the same page type: one stands for them all.
                urls.append(
                    (
                        f"{opts.label} change" if view == "change" else "history",
                        reverse(name, args=[first.pk]),
                    )
                )
    exception = OpsException.objects.filter(status="open").first()
    if exception is not None:
        form = reverse(
            "admin:opsconsole_action_form", args=["resolve_exception", "opsexception", exception.pk]
        )
        urls.append(("action form", form))
    return list(dict.fromkeys(urls))


def _signed_in_tab(browser, live_server, user):
    """A browser context of its own for ``user``, signed in once through the password and the
    second factor, as a person does; its tab is watched from the first page."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    watch = Watch(tab)
    sign_in(tab, user)
    tab.wait_for_load_state("load")
    watch.collect()
    return context, tab, watch


def _sign_in_page_problems(browser, live_server, make_user) -> list[str]:
    """The password form, then (a user with no device) the enrolment step."""
    other = browser.new_context(base_url=live_server.url)
    newcomer_tab = other.new_page()
    first_steps = Watch(newcomer_tab)
    assert first_steps.visit("/login/") == 200
    log_in_with_password(newcomer_tab, make_user("support"))
    newcomer_tab.wait_for_url("**/login/enrol/**")
    newcomer_tab.wait_for_load_state("load")
    first_steps.collect()
    other.close()
    return list(first_steps.problems)


# Page types whose content depends on who looks (their buttons, their work).
ROLE_SHAPED = {"home", "security", "approvals", "action form"} | {
    f"{label} change" for label in ("accounts.Account", "accounts.OpsException", "routing.Ticket")
}


def _grant_every_queue(user) -> None:
    """Every queue, so the ticket pages are theirs to open as their work would make them."""
    system = system_user("system:tests")
    for queue in Queue.objects.all():
        queue_access_grant(queue=queue, user=user, actor=system)


def _broken(statuses: dict) -> dict:
    return {u: s for u, s in statuses.items() if s >= 500 or s == 0}


def test_every_page_type_loads_with_the_csp_enforced(browser, make_user, live_server, screenshot):
    call_command("seed_demo", "--accounts", "20", stdout=io.StringIO())
    problems = _sign_in_page_problems(browser, live_server, make_user)
    lead = make_user(roles.OPS_LEAD)
    _grant_every_queue(lead)
    context, tab, watch = _signed_in_tab(browser, live_server, lead)
    statuses = {url: watch.visit(url) for _, url in _console_urls()}
    screenshot(tab, "csp-last-page")
    assert watch.visit("/api/docs/") == 200
    tab.wait_for_selector(".opblock", timeout=15_000)
    watch.collect()
    context.close()
    assert not _broken(statuses), _broken(statuses)
    assert sum(status == 200 for status in statuses.values()) > 40
    problems += watch.problems
    assert not problems, "\n".join(problems)


def test_the_pages_each_role_shapes_load_with_the_csp_enforced(browser, make_user, live_server):
    call_command("seed_demo", "--accounts", "20", stdout=io.StringIO())
    app_kinds = {page.url_name for page in app_pages.all_pages()}
    shaped = [(kind, url) for kind, url in _console_urls() if kind in ROLE_SHAPED | app_kinds]
    problems = []
    for role in (r for r in roles.STAFF_ROLES if r != roles.OPS_LEAD):
        user = make_user(role)
        _grant_every_queue(user)
        context, _, watch = _signed_in_tab(browser, live_server, user)
        statuses, refused = {}, set()
        for kind, url in shaped:
            # Asked first without a browser: a refusal (403, 404, a redirect away) is skipped.
            if context.request.get(url, max_redirects=0).status != 200:
                refused.add(kind)
                continue
            statuses[url] = watch.visit(url)
        context.close()
        assert not _broken(statuses), (role, _broken(statuses))
        assert sum(status == 200 for status in statuses.values()) >= 4, (role, statuses)
        assert refused, role  # the walk really ran as this role: some page types are not theirs
        problems += [f"{role}: {problem}" for problem in watch.problems]
    assert not problems, "\n".join(problems)


def test_the_policy_is_sent_on_every_page(client):
    response = client.get("/login/", secure=True)
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "publickey-credentials-get=(self)" in response["Permissions-Policy"]
    assert "publickey-credentials-create=(self)" in response["Permissions-Policy"]
