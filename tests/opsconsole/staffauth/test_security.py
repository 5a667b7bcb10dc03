"""Sign-in & security: a person's own factors, activity and new recovery codes."""

import pytest

from opsconsole.staffauth.models import LoginEventKind
from opsconsole.staffauth.services import login_event_record

pytestmark = pytest.mark.django_db


def test_the_security_page_lists_the_users_factors_and_activity(console_for):
    client = console_for("support")

    page = client.get("/security/").content.decode()
    assert "Your second factors" in page and "Your recent sign-in activity" in page
    assert "set up" in page  # the test authenticator app

    new_codes = client.post("/security/", {"do": "new_recovery_codes"})
    assert new_codes["Location"] == "/login/recovery-codes/?next=%2Fsecurity%2F"
    assert client.get(new_codes["Location"]).content.decode().count("<li><code>") == 10


def test_the_activity_is_the_users_own(console_for, make_user):
    someone_else = make_user("support", username="someone.else")
    login_event_record(kind=LoginEventKind.LOGIN_FAILED, actor=None, user=someone_else)

    page = console_for("support").get("/security/").content.decode()

    assert "Login failed" not in page
