"""Log lines: one structured line per event, each with its request id; no traceback for a 403."""

import io
import logging

import pytest

from tests.helpers.api import EVENTS_URL

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


def test_a_request_logs_structured_lines_with_its_id_once_each(console_for, log_output):
    client = console_for("support")
    log_output.readouterr()
    client.get("/accounts/account/", HTTP_X_REQUEST_ID="req-log-1")
    lines = _lines(log_output)

    finished = [line for line in lines if "event=request_finished" in line]
    assert len(finished) == 1, lines
    assert "request_id=req-log-1" in finished[0]
    assert "code=200" in finished[0]
    assert len(lines) == len(set(lines)), "a line was printed twice"
    assert all(line.startswith("timestamp=") and " level=" in line for line in lines), lines


def test_a_forbidden_request_logs_one_warning_and_no_traceback(console_for, log_output):
    client = console_for(None)  # staff with no role: the console refuses them
    log_output.readouterr()
    response = client.get("/accounts/account/", HTTP_X_REQUEST_ID="req-log-403")
    lines = _lines(log_output)

    assert response.status_code in (302, 403)
    assert "Traceback" not in "\n".join(lines)
    assert sum("request_id=req-log-403" in line for line in lines) >= 1
    assert len(lines) == len(set(lines))


def test_an_api_refusal_logs_no_traceback(product_api, log_output):
    log_output.readouterr()
    response = product_api.get(EVENTS_URL, HTTP_X_REQUEST_ID="req-log-405")
    lines = _lines(log_output)
    assert response.status_code in (403, 405)
    assert "Traceback" not in "\n".join(lines)
    assert [line for line in lines if "event=request_finished" in line and "req-log-405" in line]


def test_stdlib_loggers_are_structured_too(log_output):
    log_output.readouterr()
    logging.getLogger("opsconsole.test").warning("plain %s line", "stdlib")
    (line,) = _lines(log_output)
    assert "event='plain stdlib line'" in line or 'event="plain stdlib line"' in line, line
    assert "level=warning" in line and "logger=opsconsole.test" in line
