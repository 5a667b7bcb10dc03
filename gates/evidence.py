"""What gates reads from the reports' panels, as plain JSON-ready dicts: the data-quality
checks, the ranked constraints, the top failure reasons and example account timelines.

Each is the reports' own selector (the constraints and data-quality panels); this module only
turns their values into the dicts gates freezes into its evidence.
"""

from dataclasses import asdict, is_dataclass
from datetime import date

from reports.constraints.selectors import ranked_constraints as _ranked_constraints
from reports.failures.selectors import top_failure_reasons as _top_failure_reasons
from reports.quality.selectors import quality_checks as _quality_checks
from reports.timelines.selectors import example_timelines as _example_timelines


def _plain(value):
    if is_dataclass(value):
        return {k: _plain(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


def quality_checks(*, since: date, until: date, channel: str | None = None) -> list[dict]:
    """[{"code", "label", "count", "threshold", "over_threshold", "rows_url"}]"""
    return _plain(list(_quality_checks(since=since, until=until, channel=channel)))


def ranked_constraints(*, since: date, until: date, channel: str | None = None) -> list[dict]:
    """[{"reason_code", "label", "accounts_hit", "share", "handling_minutes", "owner_team",
    "risk_weight", "cost", "fix_action", "runbook", "accounts_url"}], costliest first."""
    return _plain(list(_ranked_constraints(since=since, until=until, channel=channel)))


def top_failure_reasons(*, channel: str, since: date, until: date, limit: int = 5) -> list[dict]:
    """[{"reason_code", "label", "accounts", "share"}], most frequent first (the record's shape,
    whatever else the reports' rows carry)."""
    rows = _plain(list(_top_failure_reasons(channel=channel, since=since, until=until, limit=limit)))
    return [
        {
            "reason_code": row.get("reason_code") or row.get("code"),
            "label": row.get("label") or row.get("title") or "",
            "accounts": row.get("accounts", row.get("accounts_hit", row.get("count"))),
            "share": row.get("share"),
        }
        for row in rows
    ]


def example_timelines(*, channel: str, since: date, until: date) -> dict:
    """{"failed": account id or None, "with_ticket": ..., "activated": ...}"""
    return _plain(dict(_example_timelines(channel=channel, since=since, until=until)))
