"""The constraint pages in Chromium, under the strict Content-Security-Policy the console must
work under: every page renders with no violation, the charts load as images, and a number's
link opens the list with as many rows."""

import pytest
from django.utils import timezone

from accounts.services import exception_open
from tests.browser.test_sign_in import STRICT_CSP

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
ROOT = "/reports/costsettings/constraints/"
PAGES = ["", "ranked/", "failures/", "quality/", "costs/", "funnel/", "drag/", "billing/"]


def test_constraint_pages_are_csp_clean_and_click_through(admin_page, make_account, system):
    for _ in range(3):
        account = make_account(signed_up_at=timezone.now())
        exception_open(account=account, reason_code="import_failed", summary="t", actor=system)
    page = admin_page("ops_lead")
    refused = []

    def with_csp(route):
        response = route.fetch(max_redirects=0)
        route.fulfill(response=response, headers={**response.headers, "content-security-policy": STRICT_CSP})

    page.route("**/*", with_csp)
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    charts = 0
    for path in PAGES:
        page.goto(ROOT + path)
        page.wait_for_load_state("networkidle")
        fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
        assert page.evaluate(fits), f"{path or 'index'} scrolls sideways at 1280 px"
        for chart in page.locator("img.oc-chart").all():
            assert chart.evaluate("img => img.complete && img.naturalWidth") > 0
            charts += 1
    assert charts == 2  # the funnel's and the drag trend's
    page.goto(ROOT + "ranked/")
    link = page.locator("#table-constraints tbody tr").first.locator("a").first
    assert link.inner_text() == "3"
    link.click()
    page.wait_for_load_state()
    assert page.locator("#rows-total strong").inner_text() == "3"
    assert refused == []
