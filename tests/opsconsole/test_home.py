"""The console's home (opsconsole/home.py, admin_site.index): "my work" per role, the sidebar by
what people do, and the global search over what the user may see."""

import re

import pytest
from django.utils import timezone

from accounts.models import Account, AccountEvent
from accounts.selectors import search_accounts_and_exceptions
from accounts.services import exception_open
from opsconsole import home, navigation
from tests.helpers.clients import logged_in


def _sidebar_sections(html: str) -> list[str]:
    return re.findall(r'<span class="section">([^<]+)</span>', html)


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["support", "billing", "engineering", "ops_lead", "leadership"])
def test_home_is_my_work_for_every_role_without_the_stock_index(role, console_for):
    response = console_for(role).get("/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "My tickets and exceptions" in html
    assert "Recent actions" not in html and "View site" not in html
    assert 'id="oc-search"' in html  # the search box in the header
    assert "<style" not in html and " style=" not in html  # CSP: no inline styles
    sections = _sidebar_sections(html)
    assert sections[0] == navigation.WORK
    assert (navigation.ADMIN in sections) is (role == "ops_lead")


@pytest.mark.django_db
def test_sidebar_groups_pages_by_what_people_do_and_keeps_internals_for_ops_leads(console_for):
    lead_html = console_for("ops_lead").get("/").content.decode()
    support_html = console_for("support").get("/").content.decode()
    assert _sidebar_sections(lead_html) == [
        navigation.WORK,
        navigation.ACCOUNTS,
        navigation.ROUTING_SETUP,
        navigation.BILLING,
        navigation.REPORTS,
        navigation.CHANNEL_GATES,
        navigation.ADMIN,
    ]
    work = lead_html.split(f'<span class="section">{navigation.WORK}</span>')[1].split("</table>")[0]
    assert re.findall(r'aria-describedby="[^"]*"|<a href="([^"]+)"', work)[:2] == [
        "/routing/ticket/",
        "/accounts/opsexception/",
    ]
    for internal in (
        "/opsconsole/outboxmessage/",
        "/opsconsole/idempotencyrecord/",
        "/accounts/stripeevent/",
    ):
        assert internal in lead_html.split(f'<span class="section">{navigation.ADMIN}</span>')[1]
        assert f'href="{internal}"' not in support_html


@pytest.mark.django_db
def test_leadership_finds_the_gate_pages_and_reports_in_the_sidebar(console_for):
    html = console_for("leadership").get("/").content.decode()
    assert navigation.ADMIN not in _sidebar_sections(html)
    gates = html.split(f'<span class="section">{navigation.CHANNEL_GATES}</span>')[1].split("</table>")[0]
    for page in ("/gates/rampplan/", "/gates/gatereview/", "/gates/decision/"):
        assert f'href="{page}' in gates
    reports = html.split(f'<span class="section">{navigation.REPORTS}</span>')[1].split("</table>")[0]
    assert 'href="/reports/dashboard/' in reports


@pytest.mark.django_db
def test_my_work_shows_my_exception_and_my_approvals(account, make_user, system):
    agent = make_user("support")
    exception = exception_open(account=account, reason_code="invite_expired", owner_user=agent, actor=system)
    html = logged_in(agent).get("/").content.decode()
    assert f"#{exception.pk} invite_expired" in html
    assert "Approvals waiting for you" not in html  # support decides no approvals
    lead_html = logged_in(make_user("ops_lead")).get("/").content.decode()
    assert "Approvals waiting for you (0)" in lead_html
    assert f"#{exception.pk} invite_expired" not in lead_html  # not the lead's


@pytest.mark.django_db
def test_search_finds_an_account_by_each_of_its_ids(make_account, make_user):
    account = make_account(external_id="acct_search_1", admin_email="ops@globex-search.example")
    Account.objects.filter(pk=account.pk).update(
        stripe_customer_id="cus_Search1", stripe_subscription_id="sub_S1"
    )
    AccountEvent.objects.create(
        event_id="ev-search-1",
        account=account,
        channel=account.channel,
        source="product",
        type="import.failed",
        occurred_at=timezone.now(),
        request_id="req_search_1",
        intake_id="00000000-0000-0000-0000-000000000001",
    )
    make_account(external_id="acct_other", admin_email="x@elsewhere.example")
    support = make_user("support")
    for query, matched in [
        ("acct_search_1", "external id"),
        ("OPS@globex-search.example", "email"),
        ("globex-search.example", "domain"),
        ("@globex-search.example", "domain"),
        ("cus_Search1", "Stripe id"),
        ("sub_S1", "Stripe id"),
        ("req_search_1", "request id"),
    ]:
        hits = search_accounts_and_exceptions(support, query)
        assert [(hit.label, hit.matched) for hit in hits] == [("acct_search_1", matched)], query
    # Nobody without a role sees any account, so finds none.
    assert search_accounts_and_exceptions(make_user(None), "acct_search_1") == []
    assert home.search(support, "ac") == []  # too short to search


@pytest.mark.django_db
def test_search_finds_an_exception_by_number_and_the_page_links_it(account, console_for, system):
    exception = exception_open(account=account, reason_code="invite_expired", actor=system)
    client = console_for("support")
    response = client.get("/search/", {"q": f"#{exception.pk}"})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'href="/accounts/opsexception/{exception.pk}/change/"' in html
    assert "exception number" in html
    nothing = client.get("/search/", {"q": "no-such-thing-anywhere"}).content.decode()
    assert "Nothing you may see matches" in nothing


@pytest.mark.django_db
def test_a_refused_next_lands_on_the_console_home(make_user):
    from django.test import Client

    user = make_user("support")
    client = Client(HTTP_X_FORWARDED_PROTO="https")
    response = client.post(
        "/login/?next=https://evil.example/",
        {"username": user.username, "password": "pw-for-tests-only", "next": "https://evil.example/"},
    )
    assert response.status_code == 302
    assert "evil.example" not in response["Location"].split("next=")[0]
    assert "/accounts/profile/" not in response["Location"]
    # The second step keeps only a safe target: the console's home.
    assert response["Location"].endswith("?next=%2F")


@pytest.mark.django_db
@pytest.mark.parametrize("query", ["²²²", "#²", "#٣"])
def test_search_for_digits_python_cannot_read_as_a_number_answers(console_for, query):
    # str.isdigit() accepts "²" and "٣", which int() refuses: this was a 500.
    response = console_for("support").get("/search/", {"q": query})
    assert response.status_code == 200
    assert f"Search: {query}" in response.content.decode()
