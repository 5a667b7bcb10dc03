"""Reading a report's parameters from a request's query string (the API and the CSV exports
share it). Bad input raises ``ValidationFailed``; the range and the filters are checked by the
reports themselves (``reports.metrics.validate_query``)."""

from datetime import date, datetime

from opsconsole.errors import ValidationFailed


def query_date(params, name: str, *, required: bool = True) -> date | None:
    """A YYYY-MM-DD query parameter, read as a date (midnight UTC)."""
    raw = params.get(name)
    if not raw:
        if not required:
            return None
        raise ValidationFailed("missing_parameter", f"{name} is required (YYYY-MM-DD).", {name: "required"})
    try:
        return datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValidationFailed(
            "invalid_date", f"{name} must be a date as YYYY-MM-DD, not {raw!r}.", {name: raw}
        ) from exc


def query_text(params, name: str, *, required: bool = False) -> str | None:
    value = params.get(name) or None
    if value is None and required:
        raise ValidationFailed("missing_parameter", f"{name} is required.", {name: "required"})
    return value


def query_filters(params) -> dict:
    """since, until (required) and the optional shape and plan."""
    return {
        "since": query_date(params, "since"),
        "until": query_date(params, "until"),
        "shape": query_text(params, "shape"),
        "plan": query_text(params, "plan"),
    }
