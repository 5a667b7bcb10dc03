"""The one way anything raises an alert: a Slack-compatible JSON post, or a log line.

Alerts are sent after the surrounding transaction commits, so a rolled-back failure or a dry
run raises nothing. With ALERT_WEBHOOK_URL unset the alert is logged instead.
"""

import json
import logging
import urllib.request
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction

from opsconsole.actions.recorder import external_call

logger = logging.getLogger("opsconsole.alerts")

SEVERITY_EMOJI = {"info": ":information_source:", "warning": ":warning:", "critical": ":rotating_light:"}
TIMEOUT_SECONDS = 5
# While set (``alerts_counted``), alerts that would only be logged are counted here instead.
_counted: ContextVar[Counter | None] = ContextVar("opsconsole_alerts_counted", default=None)


@dataclass(frozen=True)
class Alert:
    kind: str  # e.g. "action_failed", "outbox_delivery_failed", "sla_breach", "page"
    title: str
    text: str = ""
    severity: str = "warning"
    fields: dict = field(default_factory=dict)
    link: str = ""

    def as_slack_payload(self) -> dict:
        lines = [f"{SEVERITY_EMOJI.get(self.severity, '')} *{self.title}*".strip()]
        if self.text:
            lines.append(self.text)
        if self.link:
            lines.append(f"<{self.link}|Open in the console>")
        return {
            "text": "\n".join(lines),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(lines)}},
                *(
                    [
                        {
                            "type": "section",
                            "fields": [
                                {"type": "mrkdwn", "text": f"*{k}*\n{v}"} for k, v in self.fields.items()
                            ][:10],
                        }
                    ]
                    if self.fields
                    else []
                ),
            ],
            "opsconsole": {"kind": self.kind, "severity": self.severity, "fields": self.fields},
        }


def alert_send(alert: Alert, *, url: str | None = None) -> None:
    """Queue ``alert`` for after commit. ``url`` overrides ALERT_WEBHOOK_URL (a queue's pager)."""
    # A dry run lists the alert instead of queueing it (its transaction never commits anyway).
    external_call(
        "alerts",
        alert.kind,
        {"title": alert.title, "severity": alert.severity, "fields": alert.fields},
        perform=lambda: transaction.on_commit(lambda: deliver_alert(alert, url=url)),
    )


def deliver_alert(alert: Alert, *, url: str | None = None) -> bool:
    """Post the alert now. Returns whether it was delivered; never raises to the caller."""
    target = url if url is not None else settings.ALERT_WEBHOOK_URL
    if not target:
        counted = _counted.get()
        if counted is not None:
            counted[alert.kind] += 1
            return False
        logger.warning("ALERT %s [%s] %s %s", alert.kind, alert.severity, alert.title, alert.fields)
        return False
    body = json.dumps(alert.as_slack_payload(), default=str).encode()
    request = urllib.request.Request(
        target, data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
            return 200 <= response.status < 300
    except OSError:
        logger.exception(
            "Alert %s could not be delivered to the webhook; it was: %s", alert.kind, alert.title
        )
        return False


@contextmanager
def alerts_counted() -> Iterator[Counter]:
    """Count, rather than log one by one, the alerts raised inside the block that have no
    webhook to go to: seeding the demo raises dozens, and a summary says more. Alerts with a
    webhook are still posted."""
    counted = Counter()
    token = _counted.set(counted)
    try:
        yield counted
    finally:
        _counted.reset(token)
