"""Alerts without a webhook are logged one by one, or counted where a command summarises them
(seed_demo, run_beat)."""

import logging

from opsconsole.alerts import Alert, alerts_counted, deliver_alert


def test_alerts_are_counted_inside_the_block_and_logged_outside(settings, caplog):
    settings.ALERT_WEBHOOK_URL = ""
    with caplog.at_level(logging.WARNING, logger="opsconsole.alerts"):
        with alerts_counted() as counted:
            for _ in range(3):
                deliver_alert(Alert(kind="page", title="sev1"))
            deliver_alert(Alert(kind="sla_breach", title="late"))
        assert caplog.text == ""
        deliver_alert(Alert(kind="page", title="after"))
    assert counted == {"page": 3, "sla_breach": 1}
    assert "ALERT page" in caplog.text and "after" in caplog.text
