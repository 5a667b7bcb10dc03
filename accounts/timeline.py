"""One timeline of an account for its console page: events, actions, exceptions, field changes."""

from dataclasses import dataclass
from datetime import datetime

from accounts.models import AccountEvent, OpsException
from opsconsole.links import action_run_url, admin_change_url
from opsconsole.models import ActionRun


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "event", "action", "exception", "change"
    title: str
    detail: str = ""
    url: str = ""


def _history_entries(account, *, limit: int) -> list[TimelineEntry]:
    """The account's newest ``limit`` field changes (a change is a record and the one before it)."""
    entries = []
    newest_first = account.history.select_related("history_user").order_by("-history_date", "-history_id")
    records = list(newest_first[: limit + 1])[::-1]
    for previous, record in zip([None, *records], records, strict=False):
        if previous is None:
            continue
        delta = record.diff_against(previous, excluded_fields=["updated_at"])
        if not delta.changes:
            continue
        changed = ", ".join(f"{c.field}: {c.old} → {c.new}" for c in delta.changes)
        who = record.history_user.get_username() if record.history_user else "unknown"
        entries.append(TimelineEntry(record.history_date, "change", f"Account changed by {who}", changed))
    return entries


def account_timeline(account, *, limit: int = 200) -> list[TimelineEntry]:
    """One timeline of the account, newest first: its events, the actions run on it or its
    exceptions, its exceptions opening and closing, and every recorded change of its fields."""
    entries: list[TimelineEntry] = []
    for event in AccountEvent.objects.filter(account=account).order_by("-occurred_at")[:limit]:
        detail = " ".join(x for x in (event.error_code, event.request_id) if x)
        entries.append(TimelineEntry(event.occurred_at, "event", event.type, detail))
    runs = ActionRun.objects.filter(account=account).select_related("actor").order_by("-created_at")[:limit]
    for run in runs:
        entries.append(
            TimelineEntry(
                run.created_at,
                "action",
                f"{run.action} by {run.actor.get_username()}: {run.status}",
                run.error_message,
                action_run_url(run),
            )
        )
    exceptions = OpsException.objects.filter(account=account).select_related("reason_code")
    for exception in exceptions:
        url = admin_change_url(exception)
        entries.append(
            TimelineEntry(
                exception.opened_at,
                "exception",
                f"Exception opened: {exception.reason_code.code}",
                exception.summary,
                url,
            )
        )
        if exception.resolved_at:
            entries.append(
                TimelineEntry(
                    exception.resolved_at,
                    "exception",
                    f"Exception resolved: {exception.reason_code.code}",
                    exception.resolution_note,
                    url,
                )
            )
    entries.extend(_history_entries(account, limit=limit))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
