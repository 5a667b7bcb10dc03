"""Signing in to the console in Chromium: enrolling an authenticator app (scan, answer, recovery
codes once) and a passkey (Chromium's virtual authenticator over CDP), then signing in again
with the passkey as the second factor. Every page runs under a strict Content-Security-Policy
added by the test, and any violation fails it."""

from base64 import b32decode

import pytest
from axes.models import AccessAttempt
from django_otp.oath import TOTP

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from tests.browser.conftest import log_in_with_password

# What the console must work under: nothing inline, nothing from elsewhere.
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def csp_violations(page):
    """Serve every response under STRICT_CSP and collect what Chromium refuses."""
    refused = []

    def with_csp(route):
        # Redirects go back to the browser, so it sees every page and address as it would.
        response = route.fetch(max_redirects=0)
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/*", with_csp)
    page.on(
        "console",
        lambda message: refused.append(message.text) if "Content Security Policy" in message.text else None,
    )
    return refused


@pytest.fixture
def passkey_site(settings, live_server):
    """The live server as the passkeys' relying party (http://localhost is a secure context)."""
    settings.OTP_WEBAUTHN_RP_ID = "localhost"
    settings.OTP_WEBAUTHN_ALLOWED_ORIGINS = [live_server.url]


@pytest.fixture
def virtual_authenticator(page):
    """Chromium's virtual authenticator: a platform passkey that verifies the user at once."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    created = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return cdp, created["authenticatorId"]


def code_from_secret(shown: str) -> str:
    """What an authenticator app shows for the key it scanned (RFC 6238, 30 s, 6 digits)."""
    totp = TOTP(b32decode(shown.replace(" ", "")), step=30, t0=0, digits=6)
    return f"{totp.token():06d}"


@pytest.mark.browser
def test_a_first_login_enrols_an_authenticator_app(page, make_user, screenshot, csp_violations):
    user = make_user("support", first_name="Sam", last_name="Support")

    log_in_with_password(page, user)
    page.wait_for_url("**/login/enrol/**")
    assert page.locator(".oc-qr svg").is_visible()
    screenshot(page, "auth-totp-enrol")

    page.fill("#totp-form input[name=token]", code_from_secret(page.locator("#totp-secret").inner_text()))
    page.click("#totp-form input[type=submit]")
    page.wait_for_url("**/login/recovery-codes/**")
    codes = page.locator("#recovery-codes li").all_inner_texts()
    assert len(codes) == 10
    screenshot(page, "auth-totp-recovery-codes")

    page.click("#continue")
    page.wait_for_url(lambda url: "/login/" not in url)
    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME, SAM")
    page.reload()
    assert "/login/" not in page.url
    assert csp_violations == []


@pytest.mark.browser
def test_a_passkey_enrols_then_signs_in_as_the_second_factor(
    page, make_user, screenshot, csp_violations, passkey_site, virtual_authenticator
):
    cdp, authenticator = virtual_authenticator
    user = make_user("ops_lead", first_name="Olive", last_name="Lead")

    log_in_with_password(page, user)
    page.wait_for_url("**/login/enrol/**")
    page.locator("#passkey-register-button").wait_for()
    screenshot(page, "auth-passkey-enrol")
    page.click("#passkey-register-button")
    page.wait_for_url("**/login/recovery-codes/**")
    assert len(page.locator("#recovery-codes li").all_inner_texts()) == 10
    screenshot(page, "auth-passkey-recovery-codes")
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(credentials) == 1 and credentials[0]["rpId"] == "localhost"
    page.click("#continue")
    page.wait_for_url(lambda url: "/login/" not in url)

    page.click("#logout-form button[type=submit]")
    page.wait_for_load_state()
    log_in_with_password(page, user)
    page.wait_for_url("**/login/verify/**")
    page.locator("#passkey-verification-button").wait_for()
    screenshot(page, "auth-passkey-verify")
    page.click("#passkey-verification-button")
    page.wait_for_url(lambda url: "/login/" not in url)

    assert page.locator("#user-tools").inner_text().upper().startswith("WELCOME, OLIVE")
    page.goto("/security/")
    assert "Passkey added" in page.locator("#second-factors").inner_text()
    screenshot(page, "auth-passkey-security")
    assert csp_violations == []


@pytest.mark.browser
def test_the_demo_says_it_asks_no_second_factor(page, make_user, screenshot, settings):
    settings.TWO_FACTOR_REQUIRED = False
    log_in_with_password(page, make_user("support"))
    page.wait_for_url(lambda url: "/login/" not in url)

    assert "OPSCONSOLE_2FA_REQUIRED=0" in page.locator(".oc-demo-banner").inner_text()
    screenshot(page, "auth-demo-banner")


@pytest.mark.browser
def test_an_ops_lead_reads_the_audit_and_lifts_a_lockout(
    browser, live_server, page, admin_page, make_user, screenshot, csp_violations, settings
):
    # Behind a proxy, so the guesser and the ops lead come from different addresses.
    settings.TRUSTED_PROXY_COUNT = 1
    locked = make_user("support", username="locked.out")
    guesser = browser.new_context(
        base_url=live_server.url, extra_http_headers={"X-Forwarded-For": "203.0.113.66"}
    )
    tab = guesser.new_page()
    tab.goto("/login/")
    for _ in range(6):
        tab.fill("input[name=username]", locked.username)
        tab.fill("input[name=password]", "guess")
        with tab.expect_navigation():
            tab.click("input[type=submit]")
    assert tab.locator("#locked-out").is_visible()
    screenshot(tab, "auth-locked-out")
    guesser.close()

    page.set_extra_http_headers({"X-Forwarded-For": "198.51.100.10"})
    admin_page("ops_lead")
    page.goto("/opsconsole/lockout/")
    assert "locked (5)" in page.locator("#result_list").inner_text().lower()
    screenshot(page, "auth-lockouts")
    page.check("#action-toggle")
    page.select_option("select[name=action]", "lift_for_usernames")
    page.click("button[name=index]")
    assert "Lifted the lock on locked.out" in page.locator(".messagelist").inner_text()
    assert not AccessAttempt.objects.filter(username=locked.username).exists()

    page.goto("/opsconsole/loginevent/")
    assert "lockout lifted" in page.locator("#result_list").inner_text().lower()
    screenshot(page, "auth-login-audit")
    assert (
        LoginEvent.objects.filter(kind=LoginEventKind.LOCKED_OUT, user=locked).get().ip_address
        == "203.0.113.66"
    )
    assert csp_violations == []
