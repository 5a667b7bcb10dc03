"""The constraint pages as ops leads and leadership see them: every number links to a list
with as many rows as the number says (every panel), every table streams as CSV, the charts are
SVG images, the pages refuse those without the dashboard permission, and only ops leads edit
the cost model."""

import re
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.billing.stripe_events import stripe_event_record
from accounts.models import Account
from accounts.rejections import RejectedEvent, RejectionReason
from accounts.services import EventInput, account_events_record
from accounts.services.events import Rejection, rejected_events_record
from opsconsole.actions.services import run_action
from opsconsole.tasks import run_action_task
from reports.constraints.selectors import ranked_constraints
from reports.drag.selectors import DRAGS, operational_drag
from reports.failures.selectors import top_failure_reasons
from reports.funnel.selectors import step_funnel
from reports.models import ChannelSpend, CostSettings
from reports.quality.selectors import quality_by_day, quality_checks, quality_day_url
from reports.refunds.selectors import billing_issues
from reports.timelines.selectors import example_timelines
from routing.services import ticket_intake, ticket_solve
from tests.reports.dashboard.pages import read_page

pytestmark = pytest.mark.django_db
H = timedelta(hours=1)
PAGES = ["index", "failures", "ranked", "quality", "costs", "funnel", "drag", "billing"]


@pytest.fixture
def company(make_user, make_channel, make_account, fail_import, system):
    """A partner channel whose imports fail, with tickets, a refund, a person resolving an
    exception, refused events; and an organic channel that activates."""
    partner = make_channel("partner", kind="partner", name="Northwind Partners")
    organic = make_channel("organic", kind="organic")
    t0 = timezone.now() - 2 * 24 * H
    failed = []
    for i in range(4):
        account = make_account(channel=partner, shape="sales_assisted_business", signed_up_at=t0 + i * H)
        failed.append(fail_import(account))
    ticket, _ = ticket_intake(
        source="zendesk",
        external_id="t-1",
        requester_email="x@example.com",
        subject="import broke",
        body="",
        account_external_id=failed[0].account.external_id,
        received_at=t0 + 5 * H,
        actor=system,
    )
    ticket_solve(ticket=ticket, final_category="billing", actor=make_user("ops_lead"))  # about a charge
    run_action(
        name="resolve_exception",
        target=failed[1],
        params={"note": "re-ran"},
        evidence={"note": "re-ran the import"},
        idempotency_key="resolve-1",
        actor=make_user("support"),
    )
    activated = make_account(channel=organic, signed_up_at=t0)
    account_events_record(
        account=activated,
        events=[
            EventInput(event_id=f"ok-{t}", type=t, occurred_at=t0 + H)
            for t in ("workspace.provisioned", "integration.connected", "report.viewed")
        ],
        actor=system,
    )
    Account.objects.filter(pk=failed[2].account.pk).update(stripe_customer_id="cus_2")
    stripe_event_record(
        event={
            "id": "evt_refund",
            "type": "charge.refunded",
            "created": int(timezone.now().timestamp()),
            "data": {"object": {"id": "ch_1", "customer": "cus_2", "amount_refunded": 4_900}},
        },
        via="webhook",
        dispatch=False,
        actor=system,
    )
    rejected_events_record(
        rejections=[Rejection(RejectionReason.UNKNOWN_ACCOUNT, {}, "lost", "acct_x")], actor=system
    )
    with pytest.raises(Account.DoesNotExist):  # a background task fails and records itself
        run_action_task.delay(
            name="retry_provisioning",
            target_model="accounts.Account",
            target_id="0",
            actor_id=system.pk,
            params={},
            idempotency_key="gone",
        )
    return {"partner": partner, "activated": activated, "failed": failed}


def _listed(client, url: str) -> int:
    response = client.get(url)
    assert response.status_code == 200, url
    found = re.search(r'id="rows-total"><strong>(\d+)</strong>', response.content.decode())
    assert found, url
    return int(found.group(1))


def test_every_number_lists_as_many_rows(console_for, company, window):
    client = console_for("ops_lead")
    pairs = []  # (number, url) of every panel
    pairs += [(r.accounts_hit, r.accounts_url) for r in ranked_constraints(**window)]
    pairs += [(r.accounts_hit, r.accounts_url) for r in top_failure_reasons(channel="partner", **window)]
    pairs += [(c.count, c.rows_url) for c in quality_checks(**window)]
    pairs += [(c.count, c.rows_url) for c in quality_checks(**window, channel="partner")]
    for code, counts in quality_by_day(**window).items():
        pairs += [(n, quality_day_url(code, **window, channel=None, day=day)) for day, n in counts.items()]
    for step in step_funnel(**window):
        pairs += [(step.reached, step.reached_url), (step.first_staff_touch, step.touch_url)]
    days, _ = operational_drag(**window)
    pairs += [day.counts[d.code] for day in days for d in DRAGS if day.counts[d.code][0]]
    for row in billing_issues(**window):
        pairs += [
            (row.refunds, row.refunds_url),
            (row.disputes, row.disputes_url),
            (row.billing_tickets, row.tickets_url),
        ]

    # The data has something in every kind of panel.
    assert {url.split("list=")[1].split("&")[0] for n, url in pairs if n} >= {
        "constraint_accounts",
        "quality_unmatched_events",
        "quality_no_channel_source",
        "funnel_reached",
        "funnel_first_touch",
        "drag_manual",
        "drag_task_failures",
        "billing_refunds",
        "billing_tickets",
    }
    for number, url in pairs:
        assert _listed(client, url) == number, url


def test_the_ranked_page_shows_the_formula_and_the_fix(console_for, company, window):
    response = console_for("leadership").get(reverse("admin:reports_constraints_ranked"))
    html = response.content.decode()
    assert response.status_code == 200
    assert "cost = accounts hit × handling minutes × risk weight" in html
    assert "import_failed" in html and "runbook" in html
    (top,) = [r for r in ranked_constraints(**window) if r.reason_code == "import_failed"]
    assert top.accounts_hit == 4 and top.measured_minutes == 20  # one person resolution, 20 min


def test_the_failure_page_says_the_sentence_and_links_three_timelines(console_for, company, window):
    html = (
        console_for("ops_lead")
        .get(reverse("admin:reports_constraints_failures") + "?channel=partner")
        .content.decode()
    )
    assert "Data import failed affects 100% of new Northwind Partners accounts" in html
    examples = example_timelines(channel="partner", **window)
    assert examples["failed"] and examples["with_ticket"] and examples["activated"] is None
    assert reverse("admin:reports_constraints_timeline", args=[examples["with_ticket"]]) in html


def test_the_timeline_marks_gaps_and_the_first_wait_on_staff(console_for, company):
    account = company["failed"][0].account
    client = console_for("ops_lead")
    html = client.get(reverse("admin:reports_constraints_timeline", args=[account.pk])).content.decode()
    assert html.count("▶ first waited on staff:") == 1
    assert 'class="oc-gap' in html  # days pass between the failure and the refund
    printable = client.get(reverse("admin:reports_constraints_timeline", args=[account.pk]) + "?print=1")
    assert (
        printable.status_code == 200
        and b"print.css" in printable.content
        and b"breadcrumbs" not in printable.content
    )


@pytest.mark.parametrize("page", PAGES)
def test_every_table_streams_as_csv(console_for, company, page):
    client = console_for("ops_lead")
    html = client.get(reverse(f"admin:reports_constraints_{page}")).content.decode()
    for code in re.findall(r'id="table-([a-z_]+)"', html):
        response = client.get(reverse(f"admin:reports_constraints_{page}") + f"?csv={code}")
        assert response.streaming and response["Content-Type"].startswith("text/csv")
        assert b"".join(response.streaming_content).startswith(b"# ")


def test_charts_are_svg_images_without_script(console_for, company):
    client = console_for("leadership")
    for name in ("funnel_chart", "drag_chart"):
        response = client.get(reverse(f"admin:reports_constraints_{name}"))
        assert response["Content-Type"] == "image/svg+xml"
        assert b"<svg" in response.content and b"<script" not in response.content


@pytest.mark.parametrize("role", ["support", "billing", "engineering", None])
def test_the_pages_need_the_dashboard_permission(console_for, role):
    client = console_for(role)
    for page in PAGES:
        assert client.get(reverse(f"admin:reports_constraints_{page}")).status_code in (302, 403)


@pytest.mark.parametrize("role", ["ops_lead", "leadership"])
def test_ops_lead_and_leadership_read_every_page(console_for, role):
    client = console_for(role)
    for page in PAGES:
        assert client.get(reverse(f"admin:reports_constraints_{page}")).status_code == 200


def test_bad_input_is_a_clear_4xx(console_for):
    client = console_for("ops_lead")
    assert client.get(reverse("admin:reports_constraints_ranked") + "?since=2026-13-01").status_code == 400
    assert (
        client.get(
            reverse("admin:reports_constraints_ranked") + "?since=2026-11-10&until=2026-11-01"
        ).status_code
        == 400
    )
    assert client.get(reverse("admin:reports_constraints_ranked") + "?channel=nope").status_code == 400
    assert client.get(reverse("admin:reports_constraints_rows") + "?list=nope").status_code == 404


def test_only_ops_leads_save_the_cost_inputs_from_the_page(console_for, channel):
    url = reverse("admin:reports_constraints_costs")
    console_for("leadership").post(url, {"support_hour": "1"})
    assert not CostSettings.objects.exists()
    lead = console_for("ops_lead")
    form = lead.get(url).content.decode()
    assert 'name="support_hour" value="55.00"' in form  # money in dollars, to the cent
    lead.post(url, {"support_hour": "60.50", "minutes_per_ticket": "15", f"spend_{channel.code}": "1200.50"})
    assert (CostSettings.objects.get().support_hour_cents, CostSettings.objects.get().minutes_per_ticket) == (
        6_050,
        15,
    )
    # The form carries every channel's spend; only a changed one is written (and kept in history).
    lead.post(url, {"support_hour": "60.50", f"spend_{channel.code}": "1200.50", "spend_unattributed": "0"})
    assert ChannelSpend.history.count() == 1
    for typo in ("", "1.005", "abc", "1e30"):  # blank, a fraction of a cent, not a number, too long
        refused = lead.post(url, {"support_hour": typo, "minutes_per_ticket": "20"}, follow=True)
        assert "Loaded cost per support hour: type an amount in dollars" in refused.content.decode(), typo
    assert CostSettings.objects.get().minutes_per_ticket == 15  # nothing of a refused form is saved
    assert CostSettings.objects.get().support_hour_cents == 6_050
    html = console_for("leadership").get(url).content.decode()
    assert "$1,200.50/month" in html and "Only an ops lead changes these." in html
    assert RejectedEvent.objects.count() == 0


def test_the_dashboard_opens_a_channels_three_example_timelines(console_for, company, window):
    client = console_for("leadership")
    dates = {key: value.isoformat() for key, value in window.items()}
    page = read_page(client.get(reverse("reports:dashboard"), dates))
    failures = reverse("admin:reports_constraints_failures")
    (link,) = [link for link in page.links if link.startswith(failures) and "channel=partner" in link]
    assert link.endswith("#examples")
    assert f"since={dates['since']}" in link and f"until={dates['until']}" in link

    html = client.get(link.replace("&amp;", "&").removesuffix("#examples")).content.decode()

    assert 'id="examples"' in html
    examples = example_timelines(channel="partner", **window)
    for account_id in (examples["failed"], examples["with_ticket"]):
        assert reverse("admin:reports_constraints_timeline", args=[account_id]) in html
