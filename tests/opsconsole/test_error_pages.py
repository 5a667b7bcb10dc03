"""Refusals and missing pages in the console's own frame, saying why and where to go; under
/api/ every error is the JSON envelope, an unknown path included."""

import logging

import pytest
from rest_framework.test import APIClient

from tests.helpers.clients import https_client

pytestmark = pytest.mark.django_db


def test_a_refused_action_page_is_a_styled_403_that_says_why(console_for, account, caplog):
    support = console_for("support")
    with caplog.at_level(logging.WARNING):
        response = support.get(
            f"/opsconsole/actionrun/run/reassign_plan/account/{account.pk}/",
            HTTP_REFERER=f"https://testserver/accounts/account/{account.pk}/change/",
        )
    assert response.status_code == 403
    page = response.content.decode()
    assert "Your role may not run reassign_plan." in page
    assert 'id="site-name"' in page  # the console's frame, not a bare "403 Forbidden"
    assert f'href="https://testserver/accounts/account/{account.pk}/change/" id="error-back"' in page
    assert 'id="error-home"' in page
    forbidden = [r for r in caplog.records if "Forbidden" in r.getMessage()]
    assert len(forbidden) == 1, [r.getMessage() for r in caplog.records]
    assert "Your role may not run reassign_plan." in forbidden[0].getMessage()
    assert forbidden[0].exc_info is None  # one line, no traceback


def test_a_missing_console_page_is_a_styled_404(console_for):
    response = console_for("support").get("/opsconsole/actionrun/run/no_such_action/account/1/")
    assert response.status_code == 404
    page = response.content.decode()
    assert 'id="site-name"' in page and "There is no action named" in page
    assert 'id="error-home"' in page


@pytest.mark.parametrize(
    "path", ["/api/", "/api/v1/nothing-here/", "/api/v2/accounts/", "/api/v1/actions/x/y/z"]
)
@pytest.mark.parametrize("who", ["anonymous", "product", "staff"])
def test_an_unknown_api_path_is_a_json_404(path, who, api_client_for, console_for):
    if who == "anonymous":
        client = https_client(APIClient)
    elif who == "product":
        client = api_client_for("product")
    else:
        client = console_for("support", client_class=APIClient)
    response = client.get(path)
    assert response.status_code == 404, (response.status_code, response.get("Location"))
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == "not_found" and path in error["message"] and error["details"] == {}


def test_api_refusals_and_missing_records_keep_the_envelope(api_client_for):
    client = api_client_for("product")
    missing = client.get("/api/v1/accounts/nobody/")
    assert missing.status_code == 404 and missing.json()["error"]["code"]
    refused = api_client_for("analytics").post("/api/v1/events/", {}, format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "permission_denied"


def test_the_favicon_is_answered_without_the_login_page():
    # Signed out, it used to redirect to /login/: a request that raced every browser sign-in.
    response = https_client().get("/favicon.ico")
    assert response.status_code == 204


def test_the_favicon_never_saves_or_sends_the_session(console_for):
    """Asked for in parallel with a sign-in's second step or a sign-out, a response carrying the
    session it loaded put back a stale one: it must carry no session at all."""
    support = console_for("support")
    key = support.cookies["sessionid"].value
    response = support.get("/favicon.ico")
    assert response.status_code == 204
    assert "sessionid" not in response.cookies
    assert support.get("/").cookies["sessionid"].value == key  # a page still slides the session
