"""Lockout: 5 failed passwords lock a username and, separately, an address, and no burst of
parallel attempts gets more than 5 passwords checked (the reserving handler).

The parallel tests send real requests from real threads to the live server (one WSGI thread
and database connection per request), released together at a barrier.
"""

import threading

import pytest
import requests
from axes.models import AccessAttempt
from django.contrib.auth import get_user_model
from django.db.models import Sum
from django.utils import timezone

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from opsconsole.staffauth.services import lockout_lift
from tests.browser.conftest import TEST_PASSWORD
from tests.helpers.race import run_together

PARALLEL = 50
LIMIT = 5
WRONG = "not-the-password"


def login_form(base_url: str) -> str:
    """Open the login form as a browser would; its CSRF cookie. (The cookie is ``Secure`` under
    production settings, so it is sent by hand over the live server's plain HTTP.)"""
    response = requests.get(f"{base_url}/login/", timeout=60)
    response.raise_for_status()
    return response.cookies["csrftoken"]


def submit(csrf: str, base_url: str, username: str, password: str) -> str:
    """Post the login form; what became of the attempt."""
    response = requests.post(
        f"{base_url}/login/",
        data={"username": username, "password": password, "next": "/", "csrfmiddlewaretoken": csrf},
        cookies={"csrftoken": csrf},
        allow_redirects=False,
        timeout=120,
    )
    if response.status_code == 302:
        return "logged_in"
    if response.status_code == 429 and 'id="locked-out"' in response.text:
        return "locked"
    if response.status_code == 200 and "Please enter the correct username and password" in response.text:
        return "password_checked"
    raise AssertionError(f"unexpected answer {response.status_code}: {response.text[:300]}")


def burst(base_url: str, usernames: list[str]) -> dict[str, int]:
    """Send one wrong-password attempt per username, all at once; count the outcomes."""
    forms = [login_form(base_url) for _ in usernames]
    outcomes = run_together(len(usernames), lambda i: submit(forms[i], base_url, usernames[i], WRONG))
    counts = {outcome: outcomes.count(outcome) for outcome in set(outcomes)}
    print(f"\nlockout burst: {len(usernames)} attempts sent, {counts}")
    return counts


@pytest.fixture
def passwords_checked(monkeypatch):
    """Counts every password the server checks against a user's hash (in every thread)."""
    User = get_user_model()
    original = User.check_password
    lock = threading.Lock()
    checked = []

    def counting(self, raw_password):
        with lock:
            checked.append(self.username)
        return original(self, raw_password)

    monkeypatch.setattr(User, "check_password", counting)
    return checked


def failures_counted() -> int:
    return AccessAttempt.objects.aggregate(total=Sum("failures_since_start"))["total"] or 0


def test_fifty_parallel_wrong_passwords_for_one_user_get_five_checked(
    live_server, make_user, passwords_checked
):
    user = make_user("support")

    counts = burst(live_server.url, [user.username] * PARALLEL)

    print(
        f"passwords checked by the server: {len(passwords_checked)}, failures counted: {failures_counted()}"
    )
    assert len(passwords_checked) == LIMIT
    assert failures_counted() == LIMIT
    assert counts.get("password_checked", 0) == LIMIT
    assert counts.get("locked", 0) == PARALLEL - LIMIT
    # The right password is refused too, before it is checked.
    assert submit(login_form(live_server.url), live_server.url, user.username, TEST_PASSWORD) == "locked"
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOCKED_OUT, user=user).count() == 1
    assert LoginEvent.objects.filter(kind=LoginEventKind.LOGIN_FAILED, user=user).count() == PARALLEL + 1


def test_fifty_parallel_attempts_at_different_usernames_from_one_address_get_five_checked(
    live_server, make_user
):
    bystander = make_user("billing")

    counts = burst(live_server.url, [f"nobody{i}" for i in range(PARALLEL)])

    assert failures_counted() == LIMIT
    assert counts.get("password_checked", 0) == LIMIT
    assert counts.get("locked", 0) == PARALLEL - LIMIT
    # The address is locked: even a colleague with the right password waits (or asks an ops lead).
    assert submit(login_form(live_server.url), live_server.url, bystander.username, TEST_PASSWORD) == "locked"


# --- the rules, one request at a time (the test client) ---------------------------------------


def attempt(client, username: str, password: str = WRONG, *, address: str = "10.0.0.1"):
    response = client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)
    return response.status_code


@pytest.mark.django_db
def test_the_fifth_failure_locks_and_a_refused_attempt_does_not_extend_the_lock(client, make_user):
    user = make_user("support")
    assert [attempt(client, user.username) for _ in range(LIMIT)] == [200] * LIMIT
    last_failure = AccessAttempt.objects.get(username=user.username).attempt_time

    assert attempt(client, user.username) == 429
    assert attempt(client, user.username, TEST_PASSWORD) == 429
    assert AccessAttempt.objects.get(username=user.username).attempt_time == last_failure
    assert AccessAttempt.objects.get(username=user.username).failures_since_start == LIMIT

    # Fifteen minutes after the last failure the lock is over.
    AccessAttempt.objects.update(attempt_time=timezone.now() - timezone.timedelta(minutes=15, seconds=1))
    assert attempt(client, user.username, TEST_PASSWORD) == 302


@pytest.mark.django_db
def test_a_correct_password_clears_the_users_count_but_not_the_addresss(client, make_user):
    mallory, victim = make_user("support"), make_user("support")
    for _ in range(LIMIT - 1):
        assert attempt(client, victim.username) == 200
    # A valid login from the same address must not wipe the guesses at someone else.
    assert attempt(client, mallory.username, TEST_PASSWORD) == 302
    client.post("/login/leave/")
    assert attempt(client, victim.username) == 200
    assert attempt(client, f"{victim.username}-other") == 429, "the address is locked"

    for _ in range(LIMIT - 1):
        assert attempt(client, mallory.username, address="10.0.0.2") == 200
    assert attempt(client, mallory.username, TEST_PASSWORD, address="10.0.0.2") == 302
    assert not AccessAttempt.objects.filter(username=mallory.username).exists()


@pytest.mark.django_db
def test_other_users_and_addresses_are_not_locked(client, make_user):
    locked, other = make_user("support"), make_user("support")
    for _ in range(LIMIT):
        attempt(client, locked.username, address="10.0.0.1")
    assert attempt(client, other.username, TEST_PASSWORD, address="10.0.0.9") == 302
    client.post("/login/leave/")
    assert attempt(client, locked.username, TEST_PASSWORD, address="10.0.0.9") == 429, (
        "the username is locked"
    )


@pytest.mark.django_db
def test_an_ops_lead_lifts_a_lock_and_the_audit_says_who(client, make_user):
    user, lead = make_user("engineering"), make_user("ops_lead")
    for _ in range(LIMIT):
        attempt(client, user.username)
    assert attempt(client, user.username, TEST_PASSWORD) == 429

    lockout_lift(username=user.username, actor=lead)

    assert attempt(client, user.username, TEST_PASSWORD, address="10.0.0.7") == 302
    lifted = LoginEvent.objects.get(kind=LoginEventKind.LOCKOUT_LIFTED)
    assert (lifted.actor, lifted.user, lifted.detail["failures_cleared"]) == (lead, user, LIMIT)
