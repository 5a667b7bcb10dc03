"""Log lines: one structured line per request (and per event), each with its request id; no
traceback for a 403, the traceback for a 500."""

import io
import logging
import re

import pytest
from django.urls import path, reverse
from rest_framework.test import APIClient

from tests.helpers.api import EVENTS_URL, detail_url

pytestmark = pytest.mark.django_db


class _Stream:
    """What the console handler writes, read the way ``log_output`` is."""

    def __init__(self):
        self.buffer = io.StringIO()

    def readouterr(self):
        text, self.buffer = self.buffer.getvalue(), io.StringIO()
        for handler in logging.getLogger().handlers:
            if type(handler) is logging.StreamHandler:
                handler.setStream(self.buffer)
        return text


@pytest.fixture
def log_output():
    """The root logger's one console handler, pointed at a buffer for the test."""
    (handler,) = [h for h in logging.getLogger().handlers if type(h) is logging.StreamHandler]
    original = handler.stream
    stream = _Stream()
    handler.setStream(stream.buffer)
    yield stream
    handler.setStream(original)


def _lines(log_output) -> list[str]:
    return [line for line in log_output.readouterr().splitlines() if line.strip()]


def _of(lines: list[str], request_id: str) -> list[str]:
    return [line for line in lines if f"request_id={request_id}" in line]


def _boom(request):
    raise RuntimeError("kaboom in a view")


# A view that fails, for the 500 case (``pytest.mark.urls(__name__)``).
urlpatterns = [path("boom/", _boom)]


def test_a_request_logs_exactly_one_line_with_id_method_path_status_user_and_duration(
    console_for, log_output
):
    client = console_for("support")
    log_output.readouterr()
    client.get("/accounts/account/", HTTP_X_REQUEST_ID="req-log-1")
    lines = _lines(log_output)

    (line,) = _of(lines, "req-log-1")
    assert "event=request_finished" in line and "level=info" in line
    assert "method=GET" in line and "path=/accounts/account/" in line and "status=200" in line
    assert f"user={client.user.username}" in line
    assert re.search(r"duration_ms=\d+(\.\d+)?", line), line
    assert "request_started" not in "\n".join(lines)
    assert all(line.startswith("timestamp=") and " level=" in line for line in lines), lines


def test_a_forbidden_request_logs_one_warning_and_no_traceback(console_for, log_output):
    client = console_for(None)  # staff with no role: the console refuses them
    log_output.readouterr()
    response = client.get("/accounts/account/", HTTP_X_REQUEST_ID="req-log-403")
    lines = _lines(log_output)

    assert response.status_code in (302, 403)
    assert "Traceback" not in "\n".join(lines)
    (line,) = _of(lines, "req-log-403")
    assert f"status={response.status_code}" in line


def test_a_not_found_answer_logs_one_warning(console_for, log_output):
    client = console_for("support", client_class=APIClient)
    log_output.readouterr()
    response = client.get(detail_url("no-such-account"), HTTP_X_REQUEST_ID="req-log-404")
    lines = _lines(log_output)
    assert response.status_code == 404
    (line,) = _of(lines, "req-log-404")
    assert "level=warning" in line and "Traceback" not in line


def test_an_api_refusal_logs_one_line_and_no_traceback(product_api, log_output):
    log_output.readouterr()
    response = product_api.get(EVENTS_URL, HTTP_X_REQUEST_ID="req-log-405")
    lines = _lines(log_output)
    assert response.status_code in (403, 405)
    assert "Traceback" not in "\n".join(lines)
    (line,) = _of(lines, "req-log-405")
    assert "event=request_finished" in line and f"status={response.status_code}" in line
    assert f"user={product_api.token.user.username}" in line


def test_a_streamed_csv_export_logs_one_line(console_for, log_output):
    client = console_for("ops_lead")
    log_output.readouterr()
    response = client.get(reverse("admin:opsconsole_loginevent_export"), HTTP_X_REQUEST_ID="req-log-csv")
    assert response.status_code == 200 and response.streaming
    b"".join(response.streaming_content)
    lines = _lines(log_output)
    (line,) = _of(lines, "req-log-csv")
    assert "event=request_finished" in line and "status=200" in line


@pytest.mark.urls(__name__)
def test_a_failing_request_logs_one_error_line_with_its_traceback(console_for, log_output):
    client = console_for("support")
    client.raise_request_exception = False
    log_output.readouterr()
    response = client.get("/boom/", HTTP_X_REQUEST_ID="req-log-500")
    lines = _lines(log_output)
    assert response.status_code == 500
    (line,) = _of(lines, "req-log-500")
    assert "event=request_failed" in line and "level=error" in line and "status=500" in line
    assert "method=GET" in line and "path=/boom/" in line
    assert "Traceback" in line and "kaboom in a view" in line


def test_stdlib_loggers_are_structured_too(log_output):
    log_output.readouterr()
    logging.getLogger("opsconsole.test").warning("plain %s line", "stdlib")
    (line,) = _lines(log_output)
    assert "event='plain stdlib line'" in line or 'event="plain stdlib line"' in line, line
    assert "level=warning" in line and "logger=opsconsole.test" in line
