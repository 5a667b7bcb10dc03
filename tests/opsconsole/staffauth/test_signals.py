"""The login audit hears every login, logout (and why), failure and lockout."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from opsconsole.middleware import SESSION_STARTED_KEY
from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from tests.browser.conftest import TEST_PASSWORD

pytestmark = pytest.mark.django_db


def _post_login(client, username, password):
    return client.post(
        "/login/",
        {"username": username, "password": password},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Firefox/140",
    )


def test_a_failure_for_an_unknown_username_keeps_what_was_typed(client):
    _post_login(client, "no-such-person", "guess")

    event = LoginEvent.objects.get(kind=LoginEventKind.LOGIN_FAILED)
    assert (event.user, event.username, event.ip_address, event.user_agent) == (
        None,
        "no-such-person",
        "203.0.113.9",
        "Firefox/140",
    )
    assert event.detail == {"refused": "wrong_credentials"}


def test_a_failure_for_a_known_user_names_them(client, make_user):
    user = make_user("support")
    _post_login(client, user.username, "wrong")

    assert LoginEvent.objects.get(kind=LoginEventKind.LOGIN_FAILED).user == user


def test_the_lock_is_recorded_once_and_refused_attempts_say_so(client, make_user):
    user = make_user("support")
    for _ in range(7):
        _post_login(client, user.username, "wrong")

    assert LoginEvent.objects.filter(kind=LoginEventKind.LOCKED_OUT, user=user).count() == 1
    refused = LoginEvent.objects.filter(kind=LoginEventKind.LOGIN_FAILED, detail__refused="locked_out")
    assert refused.count() == 2


def test_login_and_logout_are_recorded(client, make_user):
    user = make_user("support")
    _post_login(client, user.username, TEST_PASSWORD)
    client.post("/login/leave/")

    kinds = list(LoginEvent.objects.filter(user=user).order_by("id").values_list("kind", "detail"))
    assert kinds == [
        (LoginEventKind.LOGIN, {"second_factor": "pending"}),
        (LoginEventKind.LOGOUT, {"reason": "user"}),
    ]


def test_the_twelve_hour_cap_logs_out_with_its_reason(make_user):
    user = make_user("support")
    client = Client()
    client.force_login(user)
    session = client.session
    session[SESSION_STARTED_KEY] = (timezone.now() - timedelta(hours=12, seconds=1)).isoformat()
    session.save()

    assert client.get("/").status_code == 302
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOGOUT, user=user).get().detail == {
        "reason": "session_max_age"
    }
