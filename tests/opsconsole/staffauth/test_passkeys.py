"""Passkeys are a second factor only: no ceremony without a password first, a refused one is
audited, and a registration needs a verified session once the user has a factor."""

import json

import pytest
from django.test import Client

from opsconsole.staffauth.models import LoginEvent, LoginEventKind
from tests.helpers.second_factor import password_only_login, second_factor_device

pytestmark = pytest.mark.django_db

BEGIN_AUTH = "/login/passkey/authentication/begin/"
COMPLETE_AUTH = "/login/passkey/authentication/complete/"
BEGIN_REGISTRATION = "/login/passkey/registration/begin/"


def test_no_passwordless_login(client):
    response = client.post(BEGIN_AUTH)

    assert response.status_code == 403
    assert response.json()["code"] == "passwordless_login_disabled"


def test_a_refused_verification_is_audited(make_user):
    user = make_user("support")
    client = password_only_login(Client(), user)

    response = client.post(COMPLETE_AUTH, json.dumps({}), content_type="application/json")

    assert response.status_code == 400
    event = LoginEvent.objects.get(kind=LoginEventKind.VERIFY_FAILED, user=user)
    assert event.detail == {"method": "passkey", "step": "authenticate", "reason": "invalid_state"}


def test_registering_a_passkey_needs_the_existing_factor_first(make_user):
    user = make_user("support")
    second_factor_device(user)
    half = password_only_login(Client(), user)

    refused = half.post(BEGIN_REGISTRATION)
    assert refused.status_code == 403
    assert refused.json()["code"] == "user_not_verified"

    verified = Client()
    verified.force_login(user)
    options = verified.post(BEGIN_REGISTRATION)
    assert options.status_code == 200
    assert options.json()["rp"] == {"name": "Ops console", "id": "localhost"}
