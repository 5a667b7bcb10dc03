"""The second factor in tests: a confirmed authenticator app per user, its current code, and a
verified session.

Every console page needs a session that passed a second factor. Tests that log in with
``client.force_login(user)`` get one the way a real sign-in ends: this plugin's autouse fixture
makes ``force_login`` also give the user a confirmed TOTP device and record it in the session
(what ``django_otp.login`` does). Production settings are untouched. A test about the gate
itself logs in with ``password_only_login(client, user)``, which stops after the password.

Loaded with ``pytest_plugins`` (tests/conftest.py).
"""

import time

import pytest
from django.test import Client
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

TEST_DEVICE_NAME = "test authenticator"
_password_only_force_login = Client.force_login


def second_factor_device(user) -> TOTPDevice:
    """The user's confirmed authenticator app for tests (made once)."""
    device, _ = TOTPDevice.objects.get_or_create(
        user=user, name=TEST_DEVICE_NAME, defaults={"confirmed": True}
    )
    return device


def totp_code(device: TOTPDevice, *, at: float | None = None) -> str:
    """The code the authenticator app shows now, computed from the device's secret as an app
    does (RFC 6238, as django-otp checks it)."""
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time() if at is None else at
    return f"{totp.token():0{device.digits}d}"


def verify_session(client: Client, user) -> None:
    """Mark the client's session as verified by the user's test device."""
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = second_factor_device(user).persistent_id
    session.save()


def password_only_login(client: Client, user) -> Client:
    """Log in without the second factor: a session the console must still refuse."""
    _password_only_force_login(client, user)
    return client


def _force_login_verified(self, user, backend=None):
    _password_only_force_login(self, user, backend)
    verify_session(self, user)


@pytest.fixture(autouse=True)
def _force_login_passes_the_second_factor(monkeypatch):
    monkeypatch.setattr(Client, "force_login", _force_login_verified)
