"""The second factor in the session: every console page and the API's session authentication
need it; the session key changes at login and again at verification; the demo setting."""

import pytest
from django.test import Client
from rest_framework.test import APIClient

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from tests.helpers.clients import https_client
from tests.helpers.second_factor import password_only_login, second_factor_device, totp_code

pytestmark = pytest.mark.django_db

CONSOLE_PAGES = [
    "/",
    "/accounts/account/",
    "/opsconsole/actionrun/",
    "/opsconsole/loginevent/",
    "/security/",
    "/password_change/",
]


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_a_password_only_session_reaches_no_console_page(make_user, path):
    client = password_only_login(Client(), make_user("ops_lead"))

    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=")
    # ... and the login page sends it on to the second step, keeping the destination.
    onward = client.get(response["Location"])
    assert onward["Location"].startswith("/login/verify/?next=")


@pytest.mark.parametrize("path", CONSOLE_PAGES)
def test_a_verified_session_reaches_them(make_user, path):
    client = Client()
    client.force_login(make_user("ops_lead"))  # verified by the test device (tests/helpers/second_factor.py)

    assert client.get(path).status_code == 200


def test_removing_the_device_unverifies_the_session(make_user):
    user = make_user("support")
    client = Client()
    client.force_login(user)
    assert client.get("/").status_code == 200

    user.totpdevice_set.all().delete()

    assert client.get("/").status_code == 302


def test_the_api_takes_a_console_session_only_once_verified(make_user, account, product_api):
    user = make_user("support")
    url = f"/api/v1/accounts/{account.external_id}/"
    half = password_only_login(https_client(APIClient), user)
    assert half.get(url).status_code in (401, 403)

    verified = https_client(APIClient)
    verified.force_login(user)
    assert verified.get(url).status_code == 200
    # Service tokens are not affected.
    assert product_api.get(url).status_code == 200


def test_the_session_key_changes_at_login_and_at_verification(sign_in):
    signing = sign_in("support")
    device = second_factor_device(signing.user)
    before_login = signing.client.session.session_key  # a session someone could have planted

    signing.password()
    after_password = signing.session_key
    signing.code(totp_code(device))
    after_second_factor = signing.session_key

    assert len({before_login, after_password, after_second_factor}) == 3
    assert signing.client.get("/").status_code == 200


def test_a_passed_second_factor_is_audited_with_address_and_user_agent(sign_in):
    signing = sign_in("support")
    device = second_factor_device(signing.user)
    signing.client.defaults.update(HTTP_USER_AGENT="Mozilla/5.0 (X11) test", REMOTE_ADDR="198.51.100.7")
    signing.password()
    signing.code(totp_code(device))

    verified = LoginEvent.objects.get(user=signing.user, kind=LoginEventKind.VERIFIED)
    assert (verified.ip_address, verified.user_agent) == ("198.51.100.7", "Mozilla/5.0 (X11) test")
    assert verified.detail == {"method": "totp", "device": device.name}


def test_with_the_demo_setting_the_password_is_enough_and_a_banner_says_so(settings, make_user, sign_in):
    settings.TWO_FACTOR_REQUIRED = False
    signing = sign_in("support")

    assert signing.password()["Location"] == "/"
    page = signing.client.get("/").content.decode()
    assert "OPSCONSOLE_2FA_REQUIRED=0" in page
    assert "sign-in asks no second factor" in page


def test_with_the_second_factor_on_there_is_no_banner(make_user):
    client = Client()
    client.force_login(make_user("support"))

    assert "OPSCONSOLE_2FA_REQUIRED=0" not in client.get("/").content.decode()
