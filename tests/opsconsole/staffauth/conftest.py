"""Fixtures for staff sign-in: a client that signs in through the real forms."""

import re

import pytest
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice

from tests.browser.conftest import TEST_PASSWORD
from tests.helpers.second_factor import totp_code


class SignIn:
    """A browser-like test client walking the sign-in steps."""

    def __init__(self, user):
        self.user = user
        self.client = Client()

    @property
    def session_key(self) -> str | None:
        cookie = self.client.cookies.get("sessionid")
        return cookie.value if cookie else None

    def password(self, password: str = TEST_PASSWORD, *, next_url: str = "/"):
        return self.client.post(
            f"/login/?next={next_url}",
            {"username": self.user.username, "password": password, "next": next_url},
        )

    def enrol_totp(self, *, next_url: str = "/"):
        """Open the enrolment page, read the new app's secret as a person scanning would, answer."""
        page = self.client.get(f"/login/enrol/?next={next_url}")
        assert page.status_code == 200, page
        device = TOTPDevice.objects.get(user=self.user, confirmed=False)
        shown = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', page.content.decode()).group(1).replace(" ", "")
        return (
            page,
            device,
            shown,
            self.client.post(
                f"/login/enrol/?next={next_url}", {"token": totp_code(device), "next": next_url}
            ),
        )

    def code(self, token: str, *, next_url: str = "/"):
        return self.client.post(f"/login/verify/?next={next_url}", {"token": token, "next": next_url})


@pytest.fixture
def sign_in(make_user):
    """``sign_in("ops_lead")`` (or a user): a client that has not logged in yet."""

    def _make(role_or_user="support"):
        user = make_user(role_or_user) if isinstance(role_or_user, str) else role_or_user
        return SignIn(user)

    return _make
