"""The channel dashboard in Chromium, as leadership reads it: the table, a sparkline in every
cell, the trend charts drawn (legend and axis titles visible), the definitions one click away,
and a heat-map cell opening its accounts, all under a strict Content-Security-Policy with no
console error. Screenshots: var/screenshots/reports-*.png."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import EventInput, account_events_record
from tests.browser.conftest import SCREENSHOTS

D, H = timedelta(days=1), timedelta(hours=1)
# The page's policy: nothing inline, nothing from elsewhere (as tests/browser/test_sign_in.py).
STRICT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@pytest.fixture
def console_errors(page):
    """Every response is served under STRICT_CSP but the charts, which keep the policy the
    server gave them (their own, which must exist). Collects console errors, CSP refusals and page errors."""
    found = []

    def with_csp(route):
        response = route.fetch(max_redirects=0)
        headers = dict(response.headers)
        if "/reports/charts/" in route.request.url:
            assert "content-security-policy" in headers, route.request.url
        else:
            headers["content-security-policy"] = STRICT_CSP
        route.fulfill(response=response, headers=headers)

    def on_console(message):
        favicon = message.location.get("url", "").endswith("/favicon.ico")
        if (message.type == "error" and not favicon) or "Content Security Policy" in message.text:
            found.append(message.text)

    page.route("**/*", with_csp)
    page.on("console", on_console)
    page.on("pageerror", lambda error: found.append(str(error)))
    return found


@pytest.fixture
def two_channels(make_channel, make_account, system):
    """A partner whose imports fail and a web channel that activates, over three weeks."""
    partner, web = make_channel("partner", kind="partner"), make_channel("web")
    now = timezone.now()
    for i in range(12):
        at = now - (3 + i * 1.5) * D
        bad = make_account(channel=partner, shape="self_serve_team", signed_up_at=at)
        failed = EventInput(f"p{i}", "import.failed", at + 2 * H, error_code="timeout")
        account_events_record(account=bad, events=[failed], actor=system)
        good = make_account(channel=web, shape="free_trial", signed_up_at=at + H)
        seen = EventInput(f"w{i}", "user.login", at + 3 * H)
        account_events_record(account=good, events=[seen], actor=system)


def _all_images_drawn(page) -> list[str]:
    """The images that did not load or decode (empty when every chart and sparkline drew)."""
    return page.evaluate(
        "[...document.images].filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src)"
    )


@pytest.mark.browser
def test_leadership_reads_the_dashboard_and_its_charts(admin_page, two_channels, console_errors, screenshot):
    page = admin_page("leadership")
    page.get_by_role("link", name="Channel dashboard").first.click()
    page.wait_for_load_state("networkidle")
    assert page.url.split("?")[0].endswith("/reports/dashboard/")

    table = page.locator("#channel-dashboard")
    partner = table.locator("tr[data-channel=partner] td[data-metric=provisioning_failure_rate]")
    assert partner.locator(".oc-num").inner_text() == "100.0%"
    assert "12 / 12 mature accounts" in partner.get_attribute("title")
    assert (
        table.locator("tr[data-channel=web] td[data-metric=provisioning_failure_rate] .oc-num").inner_text()
        == "0.0%"
    )
    assert table.locator("img.oc-spark").count() == 9 * table.locator("tbody tr").count()
    charts = page.locator("#trend-charts img")
    assert charts.count() == 9
    assert _all_images_drawn(page) == []
    assert charts.first.bounding_box()["height"] > 200
    screenshot(page, "reports-dashboard-leadership")

    # The definition is one click away, on the same page.
    table.get_by_role("link", name="Provisioning failure rate").click()
    assert page.url.endswith("#def-provisioning_failure_rate")
    assert page.locator("#def-provisioning_failure_rate").is_visible()
    assert "import.failed" in page.locator("#def-provisioning_failure_rate + dd").inner_text()

    # A chart opened alone: pygal's SVG, drawn with its styles, legend and axis titles showing.
    page.goto(charts.nth(2).get_attribute("src"))
    for text in ("Provisioning failure rate", "% of mature accounts", "Signup week, from Monday (UTC)"):
        drawn = page.locator("text").filter(has_text=re.compile(f"^{re.escape(text)}$"))
        assert drawn.first.is_visible(), text
    for channel in ("partner", "web"):
        assert page.locator(".legend text", has_text=channel).first.is_visible(), channel
    assert page.locator(".axis.y text", has_text="100%").count() >= 1
    font = page.locator(".legend text").first.evaluate("t => getComputedStyle(t).fontFamily")
    assert "system-ui" in font  # pygal's own style applied, under the SVG's own policy
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)  # a full-page shot of an SVG document hangs
    page.locator("svg").first.screenshot(path=str(SCREENSHOTS / "reports-chart-failure-rate.png"))
    assert console_errors == []


@pytest.mark.browser
def test_a_heat_map_cell_opens_its_accounts(admin_page, two_channels, console_errors, screenshot):
    page = admin_page("ops_lead")
    page.goto("/reports/cohorts/?metric=provisioning_failure_rate")
    page.wait_for_load_state("networkidle")
    assert _all_images_drawn(page) == []
    cell = page.locator("#cohort-heatmap td[data-channel=partner]:not(.oc-heat-none)").first
    n = int(cell.get_attribute("data-n"))
    assert n > 0 and "oc-heat-g1" in cell.get_attribute("class")  # all failed: the worst colour
    screenshot(page, "reports-cohorts-ops-lead")
    cell.locator("a.oc-heat-link").click()
    page.wait_for_load_state()
    assert "/accounts/account/" in page.url
    assert page.locator("#result_list tbody tr").count() == n
    assert page.locator(".paginator").inner_text().strip().startswith(f"{n} account")
    assert console_errors == []
