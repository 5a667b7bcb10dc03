"""A heat-map cell opens the console's account list filtered to exactly its accounts: the list's
count is the cell's n, and the accounts are those a plain reading of METRICS.md puts there."""

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.utils import timezone

from tests.helpers.clients import logged_in
from tests.helpers.reports import build_company
from tests.reports.dashboard.pages import heatmap_cells
from tests.reports.metrics.truth import Truth, midnight

pytestmark = pytest.mark.django_db

D = timedelta(days=1)
COHORTS = "/reports/cohorts/"


def _follow(client, href: str):
    response = client.get(href.replace("&amp;", "&"))
    assert response.status_code == 200, response.status_code
    return response.context_data["cl"]


def _expected(truth: Truth, code: str, channel: str, week: date, since: date, as_of) -> set[str]:
    """The accounts a cell's value is over, from the raw rows: the channel's non-duplicate
    signups of that ISO week (clipped to the page's range), mature at ``as_of`` (for time to
    first value: activated)."""
    start, end = max(week, since), week + 7 * D
    members = [
        a
        for a in truth.accounts
        if a.channel.code == channel
        and a.duplicate_of_id is None
        and midnight(start) <= a.signed_up_at < midnight(end)
    ]
    if code == "time_to_first_value_h":
        return {a.external_id for a in members if truth.activated[a.pk] is not None}
    return {a.external_id for a in members if a.signed_up_at + truth.window(code, a) <= as_of}


CODES = ["signups", "activation", "provisioning_failure_rate", "tickets_per_100", "time_to_first_value_h"]


def test_a_cell_opens_exactly_its_n_accounts(make_user, system):
    build_company(3, make_user=make_user, system=system)
    lead = logged_in(make_user("ops_lead"))
    truth = Truth()
    for code in CODES:
        check_cells(lead, truth, code)


def check_cells(lead, truth: Truth, code: str) -> None:
    today = timezone.now().date()
    since = today - 45 * D
    page = lead.get(COHORTS, {"metric": code, "since": since.isoformat(), "until": (today + D).isoformat()})
    opened = 0
    for (channel, week), cell in heatmap_cells(page).items():
        n, pending = int(cell["attrs"]["data-n"]), int(cell["attrs"]["data-pending"])
        href = next(href for kind, href in cell["links"] if kind == "oc-heat-link")
        as_of = parse_qs(urlsplit(href.replace("&amp;", "&")).query)["cohort_as_of"][0]
        expected = _expected(
            truth, code, channel, date.fromisoformat(week), since, timezone.datetime.fromisoformat(as_of)
        )
        assert n == len(expected), (channel, week)
        if n == 0 and pending == 0:
            continue
        listed = _follow(lead, href)
        assert listed.result_count == n, (channel, week)
        assert {a.external_id for a in listed.queryset} == expected, (channel, week)
        if code != "time_to_first_value_h":
            with_pending = _follow(lead, href.replace("cohort_scope=counted", "cohort_scope=all"))
            assert with_pending.result_count == n + pending, (channel, week)
            counted = _follow(lead, href.replace("cohort_scope=counted", "cohort_scope=numerator"))
            adding = {
                a.external_id for a in listed.queryset if code == "signups" or truth.contribution(code, a)
            }
            assert {a.external_id for a in counted.queryset} == adding, (channel, week)
        opened += 1
    assert opened >= 3, code  # the company fills several cells


def test_the_list_says_which_cell_it_shows(make_user, system):
    build_company(5, make_user=make_user, system=system)
    today = timezone.now().date()
    lead = logged_in(make_user("leadership"))
    page = lead.get(COHORTS, {"metric": "signups", "since": (today - 30 * D).isoformat()})
    cell = next(c for c in heatmap_cells(page).values() if int(c["attrs"]["data-n"]) > 0)
    href = next(href for kind, href in cell["links"] if kind == "oc-heat-link")
    html = lead.get(href.replace("&amp;", "&")).content.decode()
    assert "By cohort cell" in html and f"{cell['attrs']['data-channel']}, week of" in html


@pytest.mark.parametrize(
    "query",
    [
        "cohort_metric=nps&cohort_channel=web&cohort_start=2026-11-02&cohort_as_of=2026-11-30T00:00:00%2B00:00",
        "cohort_metric=signups&cohort_channel=nowhere&cohort_start=2026-11-02&cohort_as_of=2026-11-30T00:00:00%2B00:00",
        "cohort_metric=signups&cohort_channel=web&cohort_start=soon&cohort_as_of=2026-11-30T00:00:00%2B00:00",
        "cohort_metric=signups&cohort_channel=web&cohort_start=2026-11-02",
        "cohort_metric=auto_owner_rate&cohort_channel=web&cohort_start=2026-11-02&cohort_as_of=2026-11-30T00:00:00%2B00:00",
    ],
)
def test_a_bad_cell_is_refused_not_a_500(make_user, make_channel, query):
    make_channel("web")
    response = logged_in(make_user("ops_lead")).get(f"/accounts/account/?{query}")
    assert response.status_code == 302 and response["Location"].endswith("?e=1")
