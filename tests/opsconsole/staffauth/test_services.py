"""Sign-in writes: who may reset someone's second factors or lift a lock (role matrix, refusals
included), what each leaves behind, and the audit row in the same transaction."""

import pytest
from axes.models import AccessAttempt
from django.contrib.sessions.models import Session
from django.test import Client
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from opsconsole.errors import PermissionRefused, ValidationFailed
from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from opsconsole.staffauth.services import (
    lockout_lift,
    recovery_codes_issue,
    staff_devices_reset,
    totp_device_confirm,
    totp_device_start,
)
from tests.helpers.second_factor import second_factor_device, totp_code

pytestmark = pytest.mark.django_db

ROLES = ["support", "billing", "engineering", "ops_lead", None]


@pytest.mark.parametrize("role", ROLES)
def test_only_an_ops_lead_resets_someone_elses_second_factors(make_user, role):
    member, actor = make_user("support"), make_user(role)
    second_factor_device(member)
    recovery_codes_issue(user=member, actor=member)

    if role != "ops_lead":
        with pytest.raises(PermissionRefused):
            staff_devices_reset(user=member, actor=actor)
        assert TOTPDevice.objects.filter(user=member).exists()
        assert not LoginEvent.objects.filter(kind=LoginEventKind.DEVICES_RESET).exists()
        return

    removed = staff_devices_reset(user=member, actor=actor)

    assert removed == {"totp": 1, "passkey": 0, "recovery_codes": 1}
    assert not TOTPDevice.objects.filter(user=member).exists()
    assert not StaticDevice.objects.filter(user=member).exists()
    event = LoginEvent.objects.get(kind=LoginEventKind.DEVICES_RESET)
    assert (event.user, event.actor, event.detail["removed"]) == (member, actor, removed)


def test_an_ops_lead_cannot_reset_their_own(make_user):
    lead = make_user("ops_lead")
    second_factor_device(lead)

    with pytest.raises(PermissionRefused, match="Another ops lead"):
        staff_devices_reset(user=lead, actor=lead)
    assert TOTPDevice.objects.filter(user=lead).exists()


def test_a_reset_ends_the_members_sessions_and_only_theirs(make_user):
    member, colleague, lead = make_user("support"), make_user("support"), make_user("ops_lead")
    theirs, other = Client(), Client()
    theirs.force_login(member)
    other.force_login(colleague)

    result = staff_devices_reset(user=member, actor=lead)

    assert result["totp"] == 1
    assert LoginEvent.objects.get(kind=LoginEventKind.DEVICES_RESET).detail["sessions_ended"] == 1
    assert theirs.get("/").status_code == 302
    assert other.get("/").status_code == 200
    assert Session.objects.count() == 1


@pytest.mark.parametrize("role", ROLES)
def test_only_an_ops_lead_lifts_a_lockout(make_user, role):
    actor = make_user(role)
    AccessAttempt.objects.create(
        username="locked",
        ip_address="10.0.0.1",
        user_agent="x",
        failures_since_start=5,
        get_data="",
        post_data="",
    )

    if role != "ops_lead":
        with pytest.raises(PermissionRefused):
            lockout_lift(username="locked", actor=actor)
        assert AccessAttempt.objects.exists()
        return

    assert lockout_lift(username="locked", actor=actor) == 1
    assert not AccessAttempt.objects.exists()


def test_lifting_an_address_leaves_other_addresses_counted(make_user):
    lead = make_user("ops_lead")
    for ip in ("10.0.0.1", "10.0.0.2"):
        AccessAttempt.objects.create(
            username="someone",
            ip_address=ip,
            user_agent="x",
            failures_since_start=5,
            get_data="",
            post_data="",
        )

    lockout_lift(ip_address="10.0.0.1", actor=lead)

    assert list(AccessAttempt.objects.values_list("ip_address", flat=True)) == ["10.0.0.2"]
    event = LoginEvent.objects.get(kind=LoginEventKind.LOCKOUT_LIFTED)
    assert event.detail == {"username": None, "ip_address": "10.0.0.1", "failures_cleared": 5}


def test_lifting_needs_something_to_lift(make_user):
    with pytest.raises(ValidationFailed):
        lockout_lift(actor=make_user("ops_lead"))


def test_new_recovery_codes_replace_the_old_ones(make_user):
    user = make_user("support")
    first = recovery_codes_issue(user=user, actor=user)
    second = recovery_codes_issue(user=user, actor=user)

    assert len(second) == 10 and not set(first) & set(second)
    assert sorted(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == sorted(
        second
    )


def test_a_new_authenticator_app_replaces_the_earlier_one(make_user):
    user = make_user("support")
    old = second_factor_device(user)
    new = totp_device_start(user=user, actor=user)

    totp_device_confirm(device=new, token=totp_code(new), actor=user)

    assert list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")) == [(new.pk, True)]
    assert not TOTPDevice.objects.filter(pk=old.pk).exists()


def test_a_wrong_code_confirms_nothing_and_records_nothing(make_user):
    user = make_user("support")
    device = totp_device_start(user=user, actor=user)

    with pytest.raises(ValidationFailed):
        totp_device_confirm(device=device, token="not-a-code", actor=user)

    device.refresh_from_db()
    assert not device.confirmed
    assert not LoginEvent.objects.filter(kind=LoginEventKind.ENROLLED).exists()
