"""Reading a report's parameters from a request's query string (the API and the CSV exports
share it). Bad input raises ``ValidationFailed``; the range and the filters are checked by the
reports themselves (``reports.metrics.validate_query``)."""

from datetime import date, datetime

from opsconsole.errors import ValidationFailed

# The dates a report may name: any real cohort, and far enough from the ends of the calendar
# that a window or a maturity added to them (or a default range taken before them) is still
# a date. 9999-12-31 plus a day is an OverflowError, not a report.
EARLIEST_DATE = date(1970, 1, 1)
LATEST_DATE = date(2999, 12, 31)


def date_in_range(day: date, name: str) -> date:
    """``day``, or ``ValidationFailed`` (``date_out_of_range``) outside the dates reports name."""
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationFailed(
            "date_out_of_range",
            f"{name} must be between {EARLIEST_DATE.isoformat()} and {LATEST_DATE.isoformat()}, "
            f"not {day.isoformat()}.",
            {name: day.isoformat(), "earliest": EARLIEST_DATE.isoformat(), "latest": LATEST_DATE.isoformat()},
        )
    return day


def query_date(params, name: str, *, required: bool = True) -> date | None:
    """A YYYY-MM-DD query parameter, read as a date (midnight UTC), between EARLIEST_DATE and
    LATEST_DATE."""
    raw = params.get(name)
    if not raw:
        if not required:
            return None
        raise ValidationFailed("missing_parameter", f"{name} is required (YYYY-MM-DD).", {name: "required"})
    try:
        day = datetime.strptime(raw, "%Y-%m-%d").date()
    except ValueError as exc:
        raise ValidationFailed(
            "invalid_date", f"{name} must be a date as YYYY-MM-DD, not {raw!r}.", {name: raw}
        ) from exc
    return date_in_range(day, name)


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
