"""Reads of staff sign-in: the audit as CSV (defused formulas), own activity only for people
without the audit permission, and how second factors are described."""

import csv
import io

import pytest

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from opsconsole.staffauth.selectors import describe_second_factors, login_events_csv, recent_sign_in_activity
from opsconsole.staffauth.services import Client, login_event_record

pytestmark = pytest.mark.django_db


def test_the_csv_has_every_column_and_defuses_formulas():
    login_event_record(
        kind=LoginEventKind.LOGIN_FAILED,
        actor=None,
        username="@SUM(A1)",
        client=Client(ip_address="203.0.113.1", user_agent="-cmd|' /C calc'!A0"),
        detail={"refused": "wrong_credentials"},
    )

    rows = list(csv.reader(io.StringIO("".join(login_events_csv(LoginEvent.objects.all())))))

    assert rows[0] == ["time", "event", "username", "user_id", "actor", "ip_address", "user_agent", "detail"]
    (row,) = rows[1:]
    assert row[1:] == [
        "login_failed",
        "'@SUM(A1)",
        "",
        "",
        "203.0.113.1",
        "'-cmd|' /C calc'!A0",
        '{"refused": "wrong_credentials"}',
    ]


def test_people_without_the_audit_permission_read_only_their_own(make_user):
    me, other, lead = make_user("support"), make_user("support"), make_user("ops_lead")
    mine = login_event_record(kind=LoginEventKind.LOGIN, actor=me, user=me)
    login_event_record(kind=LoginEventKind.LOGIN, actor=other, user=other)

    assert recent_sign_in_activity(me) == [mine]
    assert set(LoginEvent.objects.restrict(me)) == {mine}
    assert LoginEvent.objects.restrict(lead).count() == 2
    assert not LoginEvent.objects.restrict(me, "change").exists()


@pytest.mark.parametrize(
    ("apps", "passkeys", "codes", "expected"),
    [
        (0, 0, 0, ""),
        (1, 0, 10, "authenticator app, 10 recovery codes"),
        (0, 1, 0, "1 passkey"),
        (1, 2, 3, "authenticator app, 2 passkeys, 3 recovery codes"),
    ],
)
def test_describe_second_factors(apps, passkeys, codes, expected):
    assert describe_second_factors(apps=apps, passkeys=passkeys, recovery_codes=codes) == expected
