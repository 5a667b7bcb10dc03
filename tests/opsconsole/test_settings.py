"""Production settings: the deploy checks, the required secret key and the console session limits."""

import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from unittest import mock

import pytest
from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.utils import timezone

from opsconsole.middleware import SESSION_STARTED_KEY

# What the test run itself sets must not leak into the production-like subprocess.
NOT_INHERITED = {
    "DJANGO_DEBUG",
    "DJANGO_SECRET_KEY",
    "DJANGO_ALLOWED_HOSTS",
    "DATABASE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
}


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a fresh interpreter, so the settings module is read from this env."""
    base = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    return subprocess.run(
        [sys.executable, str(settings.BASE_DIR / "manage.py"), *args],
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_env(**overrides: str) -> dict[str, str]:
    env = {
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(64),
        "DJANGO_ALLOWED_HOSTS": "ops.example.com",
        "DATABASE_URL": "postgres://ops@db.example.com:5432/opsconsole",
    }
    env.update(overrides)
    return env


def test_readme_documents_every_variable_the_settings_read():
    settings_dir = settings.BASE_DIR / "opsconsole" / "settings"
    read = {
        name
        for path in settings_dir.glob("*.py")
        for name in re.findall(r"env_(?:str|bool|list)\(\s*\"([A-Z0-9_]+)\"", path.read_text())
    }
    readme = (settings.BASE_DIR / "README.md").read_text()

    assert "DATABASE_REPLICA_URL" in read  # the pattern finds what the settings read
    assert sorted(name for name in read if f"`{name}`" not in readme) == []


def test_deploy_check_has_no_warnings_in_production_mode():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env())

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNING" not in result.stderr


def test_deploy_check_would_catch_debug_settings():
    """The check above can fail: development mode trips it (DEBUG, no HSTS, insecure cookies)."""
    result = manage("check", "--deploy", "--fail-level", "WARNING", **production_env(DJANGO_DEBUG="1"))

    assert result.returncode != 0
    for check_id in ("security.W018", "security.W004", "security.W012"):
        assert check_id in result.stderr


def test_production_mode_refuses_to_start_without_a_secret_key():
    result = manage("check", **production_env(DJANGO_SECRET_KEY=""))

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off" in result.stderr
    assert "Traceback" not in result.stderr  # the reason, not a stack a reader has to dig through


def test_production_refuses_to_turn_the_second_factor_off():
    result = manage("check", **production_env(OPSCONSOLE_2FA_REQUIRED="0"))

    assert result.returncode != 0
    assert "OPSCONSOLE_2FA_REQUIRED=0 is for the local demo only" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_demo_may_turn_it_off():
    result = manage("check", **production_env(OPSCONSOLE_2FA_REQUIRED="0", DJANGO_DEBUG="1"))

    assert result.returncode == 0, result.stderr


class FrozenClock:
    """``timezone.now`` under the test's control, for every module that asks it."""

    def __init__(self):
        self.now = timezone.now()

    def advance(self, **delta) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock():
    frozen = FrozenClock()
    with mock.patch("django.utils.timezone.now", side_effect=lambda: frozen.now):
        yield frozen


@pytest.fixture
def staff_client(console_for, clock):
    return console_for("support")


def signed_in(client) -> bool:
    response = client.get("/")
    if response.status_code == 302:
        assert "/login/" in response["Location"]
        return False
    assert response.status_code == 200
    return True


@pytest.mark.django_db
def test_idle_limit_slides_with_activity_and_ends_after_30_minutes(staff_client, clock):
    assert signed_in(staff_client)
    for _ in range(3):
        clock.advance(minutes=29)
        assert signed_in(staff_client), "a request within 30 minutes keeps the session alive"

    clock.advance(minutes=31)
    assert not signed_in(staff_client)


@pytest.mark.django_db
def test_absolute_limit_ends_an_active_session_after_12_hours(staff_client, clock):
    assert signed_in(staff_client)
    started = clock.now
    while clock.now - started < timedelta(hours=11, minutes=50):
        clock.advance(minutes=20)
        assert signed_in(staff_client)

    assert clock.now - started == timedelta(hours=12)  # still in at exactly the limit
    clock.advance(seconds=1)
    assert not signed_in(staff_client)


@pytest.mark.django_db
def test_a_session_started_more_than_12_hours_ago_is_logged_out(staff_client):
    assert signed_in(staff_client)
    session = staff_client.session
    session[SESSION_STARTED_KEY] = (timezone.now() - timedelta(hours=12, seconds=1)).isoformat()
    session.save()

    assert not signed_in(staff_client)


def test_benchmarks_are_installed_only_when_they_run():
    assert "bench" not in settings.INSTALLED_APPS
    listed = manage("help", "--commands", **production_env())
    assert listed.returncode == 0, listed.stderr
    assert "generate_data" not in listed.stdout.split()
    usage = manage("generate_data", "--help", **production_env())
    assert usage.returncode == 0 and "--accounts" in usage.stdout, usage.stderr


@pytest.mark.django_db
def test_password_validators_stay_on(make_user):
    with pytest.raises(ValidationError) as refused:
        validate_password("password1", make_user("support"))
    assert {error.code for error in refused.value.error_list} >= {"password_too_common"}
    validate_password("a long and unusual sentence 42", make_user("support"))
