"""The sign-in steps after the password: enrol a first factor, see the recovery codes once,
verify later logins with a code, a recovery code or nothing at all (refused)."""

import re
from base64 import b32encode

import pytest
from django_otp.plugins.otp_static.models import StaticToken

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from tests.helpers.second_factor import second_factor_device, totp_code

pytestmark = pytest.mark.django_db


def test_a_first_login_enrols_an_authenticator_app_then_shows_recovery_codes_once(sign_in):
    signing = sign_in("support")

    after_password = signing.password()
    assert after_password.status_code == 302
    assert after_password["Location"] == "/login/verify/?next=%2F"
    # Nothing to verify with yet: the second step is enrolment.
    assert signing.client.get("/login/verify/?next=/")["Location"] == "/login/enrol/?next=%2F"
    assert signing.client.get("/").status_code == 302, "no console page before the second factor"

    page, device, shown_key, confirmed = signing.enrol_totp()
    assert "<svg" in page.content.decode() and "style=" not in page.content.decode()
    assert shown_key == b32encode(device.bin_key).decode()
    assert confirmed.status_code == 302
    assert confirmed["Location"] == "/login/recovery-codes/?next=%2F"

    codes_page = signing.client.get(confirmed["Location"]).content.decode()
    codes = re.findall(r"<li><code>([a-z2-7]{8})</code></li>", codes_page)
    assert len(codes) == 10
    assert sorted(codes) == sorted(
        StaticToken.objects.filter(device__user=signing.user).values_list("token", flat=True)
    )
    again = signing.client.get(confirmed["Location"]).content.decode()
    assert not any(code in again for code in codes), "recovery codes are shown once"

    assert signing.client.get("/").status_code == 200
    kinds = list(
        LoginEvent.objects.filter(user=signing.user).order_by("at", "id").values_list("kind", flat=True)
    )
    assert kinds == [
        LoginEventKind.LOGIN,
        LoginEventKind.ENROLLED,
        LoginEventKind.VERIFIED,
        LoginEventKind.RECOVERY_CODES,
    ]


def test_a_wrong_enrolment_code_confirms_nothing(sign_in):
    signing = sign_in("support")
    signing.password()
    signing.client.get("/login/enrol/")
    refused = signing.client.post("/login/enrol/", {"token": "000000"})

    assert refused.status_code == 200
    assert "That code does not match" in refused.content.decode()
    assert not signing.user.totpdevice_set.filter(confirmed=True).exists()
    assert signing.client.get("/").status_code == 302


def test_a_later_login_needs_the_apps_code_and_refuses_a_wrong_one(sign_in):
    signing = sign_in("billing")
    device = second_factor_device(signing.user)
    signing.password()

    wrong = signing.code("123456" if totp_code(device) != "123456" else "654321")
    assert wrong.status_code == 200
    assert "That code was not accepted" in wrong.content.decode()
    assert signing.client.get("/").status_code == 302
    assert LoginEvent.objects.filter(user=signing.user, kind=LoginEventKind.VERIFY_FAILED).count() == 1

    device.refresh_from_db()
    device.throttle_reset()  # the wrong code started django-otp's back-off; a person would wait
    assert signing.code(totp_code(device)).status_code == 302
    assert signing.client.get("/").status_code == 200


def test_a_code_is_accepted_once(sign_in, make_user):
    first = sign_in("support")
    device = second_factor_device(first.user)
    code = totp_code(device)
    first.password()
    assert first.code(code).status_code == 302

    second = sign_in(first.user)
    second.password()
    assert second.code(code).status_code == 200, "a replayed code is refused"


def test_a_recovery_code_signs_in_once(sign_in):
    signing = sign_in("engineering")
    second_factor_device(signing.user)
    signing.password()
    signing.code(totp_code(signing.user.totpdevice_set.get()))
    signing.client.post("/security/", {"do": "new_recovery_codes"})
    codes = re.findall(
        r"<code>([a-z2-7]{8})</code>", signing.client.get("/login/recovery-codes/").content.decode()
    )
    assert len(codes) == 10
    signing.client.post("/login/leave/")

    again = sign_in(signing.user)
    again.password()
    assert again.code(codes[0].upper()).status_code == 302, "case and spaces do not matter"
    assert again.client.get("/").status_code == 200
    assert StaticToken.objects.filter(device__user=signing.user).count() == 9

    third = sign_in(signing.user)
    third.password()
    assert third.code(codes[0]).status_code == 200, "a used recovery code is gone"


def test_the_sign_in_steps_keep_where_the_user_was_going(sign_in):
    signing = sign_in("support")
    device = second_factor_device(signing.user)
    target = "/accounts/account/"
    assert signing.client.get(target)["Location"] == "/login/?next=/accounts/account/"
    assert signing.password(next_url=target)["Location"] == "/login/verify/?next=%2Faccounts%2Faccount%2F"
    assert signing.code(totp_code(device), next_url=target)["Location"] == target


def test_an_unsafe_next_is_ignored(sign_in):
    signing = sign_in("support")
    device = second_factor_device(signing.user)
    signing.password()
    assert signing.code(totp_code(device), next_url="https://evil.example.com/")["Location"] == "/"


def test_leaving_a_half_finished_sign_in_logs_out(sign_in):
    signing = sign_in("support")
    second_factor_device(signing.user)
    signing.password()

    assert signing.client.post("/login/leave/")["Location"] == "/login/"
    assert signing.client.get("/login/verify/")["Location"].startswith("/login/?next=")
    assert LoginEvent.objects.filter(user=signing.user, kind=LoginEventKind.LOGOUT).exists()


def test_enrolling_more_needs_a_verified_session_once_a_factor_exists(sign_in):
    signing = sign_in("support")
    second_factor_device(signing.user)
    signing.password()

    assert signing.client.get("/login/enrol/")["Location"] == "/login/verify/?next=%2F"
    assert signing.client.post("/login/enrol/", {"token": "123456"})["Location"] == "/login/verify/?next=%2F"


def test_the_sign_in_pages_are_for_staff_who_passed_the_password(client, make_user):
    for path in ("/login/verify/", "/login/enrol/", "/login/recovery-codes/"):
        assert client.get(path)["Location"].startswith("/login/?next=")
