"""Browser tests: Debian's Chromium driven by Playwright against pytest-django's live_server.

No `playwright install`: the browser is /usr/bin/chromium (scripts/services.py installs it).
Mark every test here `@pytest.mark.browser`. Typical use::

    def test_something(admin_page, screenshot):
        page = admin_page("support")          # logged in, on the admin index
        page.get_by_role("link", name="Accounts").click()
        screenshot(page, "accounts-list")     # var/screenshots/accounts-list.png
"""

from pathlib import Path

import pytest
from django.conf import settings
from django.db import connections
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from tests.helpers.second_factor import second_factor_device, totp_code

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"
TEST_PASSWORD = "pw-for-tests-only"  # the password tests/conftest.py's make_user sets


@pytest.fixture
def browser(monkeypatch):
    """Chromium for one test. Playwright's sync API keeps an asyncio loop in this thread while it
    runs, and Django then refuses ORM calls from the thread (the test's own, and the database
    flush after it). The loop never runs Django code, so that check is a false alarm while the
    browser runs; stopping Playwright per test keeps the rest of the suite fully checked."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: apt-get install chromium (scripts/services.py does, as root)")
    from playwright.sync_api import sync_playwright

    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    yield chromium
    # While the loop exists, Django keeps the test's ORM connection per asyncio context rather
    # than per thread: close it here, or it outlives the test and blocks dropping the test database.
    connections.close_all()
    chromium.close()
    playwright.stop()


@pytest.fixture
def page(browser, live_server):
    """A fresh browser tab (own cookies) whose relative URLs go to the live server."""
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in_with_password(tab, user, password: str = TEST_PASSWORD) -> None:
    """The first step of a sign-in: the login form."""
    tab.goto("/login/")
    tab.fill("input[name=username]", user.username)
    tab.fill("input[name=password]", password)
    tab.click("input[type=submit]")


def sign_out(tab) -> None:
    """The person leaves: once the tab has no request in flight (a response still on its way
    would carry their session back), their cookies go."""
    tab.wait_for_load_state("networkidle")
    tab.context.clear_cookies()


def sign_in(tab, user) -> None:
    """A whole sign-in: the login form, then a code from the user's authenticator app; returns
    once the tab has left the sign-in pages."""
    device = second_factor_device(user)
    log_in_with_password(tab, user)
    tab.wait_for_url("**/login/verify/**")
    # A code typed as its 30-second step ends can reach the server in the next one; a person
    # types the new code, and so does this (once).
    for attempt in (1, 2):
        tab.fill("input[name=token]", totp_code(device))
        tab.click("#verify-form input[type=submit]")
        try:
            tab.wait_for_url(lambda url: "/login/" not in url)
            return
        except PlaywrightTimeout:
            if attempt == 2 or "/login/verify/" not in tab.url:
                raise


@pytest.fixture
def admin_page(page, make_user):
    """``admin_page("support")`` logs a new user in that role into the admin through the login
    form and the second factor (a code from the user's authenticator app) and returns the tab,
    on the admin index. The user is ``admin_page.user``."""

    def _login(role: str, **user_fields):
        user = make_user(role, **user_fields)
        sign_in(page, user)
        _login.user = user
        return page

    return _login


@pytest.fixture
def screenshot():
    """``screenshot(page, "name")`` saves var/screenshots/name.png (full page) and returns its path."""

    def _take(tab, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        tab.screenshot(path=str(path), full_page=True)
        return path

    return _take
