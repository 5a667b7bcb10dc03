"""The ops leads' pages: the login audit and its CSV export, the lockouts they lift, the staff
list where they reset second factors. Every other role is refused (role matrix)."""

import csv
import io

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from opsconsole.staffauth.services import login_event_record, recovery_codes_issue
from tests.helpers.second_factor import second_factor_device

pytestmark = pytest.mark.django_db

LISTS = ["/opsconsole/loginevent/", "/opsconsole/lockout/", "/opsconsole/staffmember/"]
PAGES = [*LISTS, "/opsconsole/loginevent/export.csv"]


@pytest.mark.parametrize("role", ["support", "billing", "engineering", "ops_lead"])
@pytest.mark.parametrize("path", PAGES)
def test_only_ops_leads_see_the_sign_in_pages(console_for, role, path):
    response = console_for(role).get(path)

    assert response.status_code == (200 if role == "ops_lead" else 403)


def _attempts(username, ip, failures):
    return AccessAttempt.objects.create(
        username=username,
        ip_address=ip,
        user_agent="curl/8",
        failures_since_start=failures,
        get_data="",
        post_data="",
    )


def test_the_audit_exports_as_streamed_csv_with_the_lists_filters(console_for, make_user):
    alice = make_user("support", username="alice")
    login_event_record(kind=LoginEventKind.LOGIN, actor=alice, user=alice)
    login_event_record(kind=LoginEventKind.LOGIN_FAILED, actor=None, username='=HYPERLINK("http://x")')
    lead = console_for("ops_lead")

    everything = lead.get("/opsconsole/loginevent/export.csv")
    failures = lead.get("/opsconsole/loginevent/export.csv?kind__exact=login_failed")

    assert everything.streaming and everything["Content-Type"] == "text/csv; charset=utf-8"
    assert everything["Content-Disposition"].startswith('attachment; filename="login-audit-')
    rows = list(csv.DictReader(io.StringIO(b"".join(everything.streaming_content).decode())))
    # The lead's own force_login is a login event too.
    assert {(row["event"], row["username"]) for row in rows} >= {
        ("login", "alice"),
        ("login_failed", '\'=HYPERLINK("http://x")'),
    }
    failed = list(csv.DictReader(io.StringIO(b"".join(failures.streaming_content).decode())))
    assert [row["event"] for row in failed] == ["login_failed"]
    assert failed[0]["username"].startswith("'="), "a formula is defused, not run by a spreadsheet"


def test_the_audit_list_links_its_export_with_the_current_filters(console_for):
    page = console_for("ops_lead").get("/opsconsole/loginevent/?kind__exact=logout").content.decode()

    assert 'href="/opsconsole/loginevent/export.csv?kind__exact=logout"' in page


def test_the_lockouts_page_shows_what_is_locked_and_lifts_it(console_for):
    _attempts("carol", "10.0.0.1", 5)
    _attempts("dave", "10.0.0.2", 2)
    lead = console_for("ops_lead")

    page = lead.get("/opsconsole/lockout/").content.decode()
    assert "locked (5)" in page and "2 failed" in page

    carol = AccessAttempt.objects.get(username="carol")
    lifted = lead.post(
        "/opsconsole/lockout/", {"action": "lift_for_usernames", "_selected_action": [carol.pk]}, follow=True
    )

    assert "Lifted the lock on carol" in lifted.content.decode()
    assert list(AccessAttempt.objects.values_list("username", flat=True)) == ["dave"]
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOCKOUT_LIFTED, username="carol").count() == 1


def test_the_lift_action_is_not_offered_to_a_viewer_without_the_permission(console_for, make_user):
    viewer = make_user("support")
    viewer.user_permissions.add(Permission.objects.get(codename="view_lockout"))
    client = Client()
    client.force_login(viewer)
    _attempts("erin", "10.0.0.3", 5)

    response = client.post(
        "/opsconsole/lockout/",
        {"action": "lift_for_usernames", "_selected_action": [AccessAttempt.objects.get().pk]},
    )

    assert response.status_code == 200  # the list again, with "no action selected"
    assert AccessAttempt.objects.filter(username="erin").exists()


def test_staff_members_show_their_second_factors_and_a_lead_resets_them(console_for, make_user):
    member = make_user("billing", username="frank")
    second_factor_device(member)
    recovery_codes_issue(user=member, actor=member)
    make_user("support", username="grace")  # no second factor yet
    lead = console_for("ops_lead")

    listing = lead.get("/opsconsole/staffmember/").content.decode()
    assert "authenticator app, 10 recovery codes" in listing
    assert "none: enrols at next login" in listing

    chosen = {"action": "reset_second_factors", "_selected_action": [member.pk]}
    confirm = lead.post("/opsconsole/staffmember/", chosen)
    assert confirm.status_code == 200 and "Yes, reset them" in confirm.content.decode()
    assert member.totpdevice_set.exists(), "nothing happens before the confirmation"

    done = lead.post("/opsconsole/staffmember/", {**chosen, "confirm": "yes"}, follow=True)

    assert "Reset the second factors of frank" in done.content.decode()
    assert not member.totpdevice_set.exists()
    assert LoginEvent.objects.filter(kind=LoginEventKind.DEVICES_RESET, user=member).count() == 1


def _queries(client, path) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(path).status_code == 200
    return len(captured)


@pytest.mark.parametrize(
    "path", ["/opsconsole/loginevent/", "/opsconsole/lockout/", "/opsconsole/staffmember/"]
)
def test_the_lists_cost_the_same_queries_for_few_rows_and_many(console_for, make_user, path):
    lead = console_for("ops_lead")

    def add_rows(start, count):
        for n in range(start, start + count):
            user = make_user("support", username=f"member{n}")
            second_factor_device(user)
            login_event_record(kind=LoginEventKind.LOGIN, actor=user, user=user)
            _attempts(user.username, f"10.1.0.{n}", n % 7)

    add_rows(0, 3)
    few = _queries(lead, path)
    add_rows(3, 30)
    assert _queries(lead, path) == few


@pytest.mark.parametrize("path", LISTS)
@pytest.mark.parametrize("term", ["alice", "10.0.0.1", "not an address", "%"])
def test_searching_the_lists_never_fails(console_for, path, term):
    assert console_for("ops_lead").get(path, {"q": term}).status_code == 200


def test_the_detail_pages_open_read_only(console_for, make_user):
    member = make_user("support")
    event = login_event_record(kind=LoginEventKind.LOGIN_FAILED, actor=None, username="x", detail={"a": "b"})
    attempt = _attempts("x", "10.0.0.1", 2)
    lead = console_for("ops_lead")

    for path in (
        f"/opsconsole/staffmember/{member.pk}/change/",
        f"/opsconsole/loginevent/{event.pk}/change/",
        f"/opsconsole/lockout/{attempt.pk}/change/",
    ):
        page = lead.get(path)
        assert page.status_code == 200, path
        assert 'name="_save"' not in page.content.decode()
