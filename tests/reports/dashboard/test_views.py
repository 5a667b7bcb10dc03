"""The channel dashboard and the cohort heat map as people use them: the same numbers as the API
(read both, on randomized companies), formatted as METRICS.md says (null is "—", never 0%),
filters that move the numbers as reports.metrics does, the definitions one click away, the CSV
links, bad input refused with a 400, and only ops leads and leadership let in."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Channel
from reports.metrics import channel_report
from tests.helpers.clients import logged_in
from tests.helpers.reports import build_company
from tests.reports.dashboard.pages import dashboard_cells, heatmap_cells, read_page

pytestmark = pytest.mark.django_db

D = timedelta(days=1)
DASHBOARD = "/reports/dashboard/"
COHORTS = "/reports/cohorts/"
# What the page shows, read from METRICS.md rather than from the code under test.
SHOWN = ["signups", "activation_24h", "provisioning_failure_rate", "tickets_per_100", "retention_30d"]
SHOWN += ["activation", "escalations_per_100", "manual_minutes_per_account", "time_to_first_value_h"]
RATES = {"activation_24h", "activation", "provisioning_failure_rate", "retention_30d"}
PER_100 = {"tickets_per_100", "escalations_per_100"}


def shown_text(code: str, value) -> str:
    if value is None:
        return "—"
    if code == "signups":
        return f"{value:,}"
    if code in RATES:
        return f"{100 * value:.1f}%"
    if code in PER_100:
        return f"{value:.1f}"
    if code == "manual_minutes_per_account":
        return f"{value:.1f} min"
    return f"{value:.1f} h"


def sixty_days(**filters) -> dict:
    today = timezone.now().date()
    return {"since": (today - 60 * D).isoformat(), "until": (today + D).isoformat(), **filters}


def _number(raw: str):
    return None if raw == "" else float(raw)


def assert_cell_is(cell: dict, code: str, expected: dict, where: str) -> None:
    """A page cell against the API's value of the same metric."""
    attrs = cell["attrs"]
    if code == "time_to_first_value_h":
        assert _number(attrs["data-value"]) == expected["p50"], where
        assert int(attrs["data-denominator"]) == expected["n"], where
        assert cell["text"]["oc-num"] == shown_text(code, expected["p50"]), where
        return
    assert _number(attrs["data-value"]) == expected["value"], where
    assert _number(attrs["data-numerator"]) == expected["numerator"], where
    assert _number(attrs["data-denominator"]) == expected["denominator"], where
    assert int(attrs["data-pending"]) == expected["pending"], where
    assert attrs["data-complete"] == ("true" if expected["complete"] else "false"), where
    assert cell["text"]["oc-num"] == shown_text(code, expected["value"]), where
    if expected["pending"]:
        assert cell["text"]["oc-pending"] == f"{expected['pending']:,} pending", where
        assert f"{expected['pending']:,} not mature yet" in attrs["title"], where
    else:
        assert "oc-pending" not in cell["text"], where
    if expected["denominator"]:
        assert f"{expected['numerator']:,} " in attrs["title"], where
        assert f"{expected['denominator']:,} mature accounts" in attrs["title"], where


@pytest.fixture
def leadership(make_user):
    return logged_in(make_user("leadership"))


@pytest.mark.parametrize(("seed", "filters"), [(3, {}), (11, {"shape": "self_serve_team"})])
def test_the_dashboard_and_the_api_give_the_same_numbers(seed, filters, make_user, system, api_client_for):
    build_company(seed, make_user=make_user, system=system)
    params = sixty_days(**filters)
    api = api_client_for("analytics").get("/api/v1/reports/channels/", params).json()
    page = logged_in(make_user("leadership")).get(DASHBOARD, params)
    assert page.status_code == 200
    cells = dashboard_cells(page)
    rows = [r for r in api["channels"] if r["channel"] != "unmatched"]
    assert {channel for channel, _ in cells} == {r["channel"] for r in rows} | {"total"}
    for row in [*rows, {"channel": "total", "metrics": api["total"]["metrics"]}]:
        for code in SHOWN:
            where = f"seed {seed} {filters} {row['channel']} {code}"
            assert_cell_is(cells[(row["channel"], code)], code, row["metrics"][code], where)
    # The company's "quiet" channel has no signups: its values are null, shown as "—".
    assert cells[("quiet", "signups")]["text"]["oc-num"] == "0"
    for code in SHOWN[1:]:
        assert cells[("quiet", code)]["text"]["oc-num"] == "—", code
        assert cells[("quiet", code)]["attrs"]["data-value"] == ""


def test_filters_change_the_numbers_as_the_metrics_module_says(make_user, system, leadership):
    build_company(11, make_user=make_user, system=system)
    everything = dashboard_cells(leadership.get(DASHBOARD, sixty_days()))
    for filters in ({"shape": "free_trial"}, {"plan": "team"}, {"since": "recent"}):
        check_filtered(leadership, filters, everything)


def check_filtered(leadership, filters: dict, everything: dict) -> None:
    today = timezone.now().date()
    params = sixty_days(**filters)
    if filters.get("since") == "recent":  # the "Last 7 days" preset
        params = {"since": (today - 6 * D).isoformat(), "until": (today + D).isoformat()}
    narrowed = dashboard_cells(leadership.get(DASHBOARD, params))
    report = channel_report(
        since=today - 6 * D if "since" in filters else today - 60 * D,
        until=today + D,
        shape=filters.get("shape"),
        plan=filters.get("plan"),
    )
    for row in report.channels:
        if not row.is_channel:
            continue
        for code in SHOWN:
            expected = row.metrics[code].as_dict()
            assert_cell_is(narrowed[(row.code, code)], code, expected, f"{filters} {row.code} {code}")
    # Independently: the signups the filter keeps, counted from the accounts themselves.
    kept = Account.objects.filter(signed_up_at__date__gte=params["since"], duplicate_of=None)
    if "shape" in filters:
        kept = kept.filter(shape=filters["shape"])
    if "plan" in filters:
        kept = kept.filter(plan=filters["plan"])
    assert int(narrowed[("total", "signups")]["attrs"]["data-value"]) == kept.count()
    assert narrowed[("total", "signups")] != everything[("total", "signups")]


def test_presets_and_the_default_range(leadership):
    today = timezone.now().date()
    page = read_page(leadership.get(DASHBOARD))
    presets = [link for link in page.links if link.startswith("?since=")]
    for days in (7, 30, 90):
        since = (today - (days - 1) * D).isoformat()
        assert f"?since={since}&until={(today + D).isoformat()}" in presets
    # With no range given the page shows the last 90 days (the 30-day metrics can mature).
    assert f'value="{(today - 89 * D).isoformat()}"' in leadership.get(DASHBOARD).content.decode()


def test_every_definition_is_one_click_away(leadership):
    page = read_page(leadership.get(DASHBOARD, sixty_days()))
    for code in SHOWN:
        assert f"def-{code}" in page.ids
        assert f"#def-{code}" in page.links
    html = leadership.get(DASHBOARD, sixty_days()).content.decode()
    assert "Accounts with activated_at &lt;= signed_up_at + 24 h" in html
    assert "Window 72h · version 1" in html


def test_the_page_says_as_of_and_links_the_csv_the_cohorts_and_support(leadership):
    response = leadership.get(DASHBOARD, sixty_days(shape="free_trial"))
    html = response.content.decode()
    assert 'id="as-of"' in html and "UTC" in html
    page = read_page(response)
    csv_link = next(link for link in page.links if link.startswith(reverse("admin:reports_export_channels")))
    assert "shape=free_trial" in csv_link
    exported = leadership.get(csv_link.replace("&amp;", "&"))
    assert exported.status_code == 200 and exported["Content-Type"].startswith("text/csv")
    assert any(link.startswith(COHORTS) for link in page.links)
    assert reverse("admin:reports_support") in page.links


def test_charts_and_sparklines_are_images_on_the_page(make_channel, make_account, leadership):
    for code in ("web", "partner", "organic", "quiet"):
        make_channel(code)
    make_account(channel=Channel.objects.get(code="web"), signed_up_at=timezone.now() - 5 * D)
    page = read_page(leadership.get(DASHBOARD, sixty_days()))
    charts = [img["src"] for img in page.images if "data-metric" in img]
    assert [src.split("/")[3].split(".")[0] for src in charts] == SHOWN
    for src in charts:
        response = leadership.get(src.replace("&amp;", "&"))
        assert response.status_code == 200 and response["Content-Type"] == "image/svg+xml"
    sparks = [img["src"] for img in page.images if "oc-spark" in img.get("class", "")]
    assert len(sparks) == len(SHOWN) * Channel.objects.count()  # a sparkline in every channel cell
    assert leadership.get(sparks[0].replace("&amp;", "&"))["Content-Type"] == "image/svg+xml"


@pytest.mark.parametrize(
    ("url", "params", "message"),
    [
        (DASHBOARD, {"since": "2026-12-01", "until": "2026-11-01"}, "invalid_range"),
        (DASHBOARD, {"since": "soon"}, "invalid_date"),
        (DASHBOARD, {"shape": "galactic"}, "unknown_shape"),
        (DASHBOARD, {"plan": "platinum"}, "unknown_plan"),
        (DASHBOARD, {"since": "2024-01-01", "until": "2026-01-01"}, "range_too_long"),
        (COHORTS, {"metric": "nps"}, "unknown_metric"),
        (COHORTS, {"metric": "queue_age_h"}, "unknown_metric"),
    ],
)
def test_bad_filters_get_a_400_that_says_why(leadership, url, params, message):
    response = leadership.get(url, params)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert 'id="report-error"' in response.content.decode()


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/reports/charts/nps.svg", 404),
        ("/reports/charts/queue_age_h.svg", 404),
        ("/reports/charts/signups.svg?as_of=yesterday", 400),
        ("/reports/charts/signups.svg?as_of=2026-11-01T10:00:00", 400),
        ("/reports/charts/signups.svg?since=2026-12-01&until=2026-11-01", 400),
        ("/reports/charts/sparkline.svg?v=1,x", 400),
        ("/reports/charts/sparkline.svg?v=" + ",".join(["1"] * 500), 400),
        ("/reports/charts/sparkline.svg?v=1,2&c=-1", 400),
    ],
)
def test_bad_chart_requests(leadership, url, status):
    assert leadership.get(url).status_code == status


PAGES = [DASHBOARD, COHORTS, "/reports/charts/signups.svg", "/reports/charts/sparkline.svg?v=1,2"]


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("support", 403),
        ("billing", 403),
        ("engineering", 403),
        ("ops_lead", 200),
        ("leadership", 200),
    ],
)
@pytest.mark.parametrize("url", PAGES)
def test_only_ops_leads_and_leadership_see_the_reports(console_for, role, status, url):
    assert console_for(role).get(url).status_code == status


def test_people_signed_out_go_to_the_login(client):
    response = client.get(DASHBOARD, secure=True)
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_index_lists_the_reports_for_those_who_may_see_them(console_for):
    index = console_for("leadership").get("/").content.decode()
    assert 'href="/reports/dashboard/"' in index and 'href="/reports/cohorts/"' in index
    assert 'href="/reports/dashboard/"' not in console_for("support").get("/").content.decode()


def test_the_heat_map_shows_every_channel_and_week(make_user, system, leadership, api_client_for):
    build_company(3, make_user=make_user, system=system)
    params = sixty_days(metric="provisioning_failure_rate")
    cells = heatmap_cells(leadership.get(COHORTS, params))
    api = api_client_for("analytics").get("/api/v1/reports/cohorts/", {**params, "period": "week"}).json()
    assert len(cells) == len(api["rows"])
    for row in api["rows"]:
        cell = cells[(row["channel"], row["period_start"])]
        assert _number(cell["attrs"]["data-value"]) == row["value"]
        n = row["denominator"] if row["denominator"] is not None else row["numerator"]
        assert int(cell["attrs"]["data-n"]) == n
        assert cell["text"]["oc-n"] == f"n={n}"
        assert cell["text"]["oc-num"] == shown_text("provisioning_failure_rate", row["value"])
        heat = cell["attrs"]["class"]
        assert ("oc-heat-none" in heat) == (row["value"] is None)
