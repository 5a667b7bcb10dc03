"""How the console writes times and money: one format everywhere, so a person never has to
translate an ISO timestamp or a count of cents in their head."""

from datetime import date, datetime, time
from decimal import Decimal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html

CURRENCY_SYMBOLS = {"usd": "$", "eur": "€", "gbp": "£"}


def relative_age(moment: datetime, now: datetime | None = None) -> str:
    """'21 h ago', 'in 3 min', 'just now': the one unit a person would say."""
    now = now or timezone.now()
    seconds = (now - moment).total_seconds()
    future = seconds < 0
    seconds = abs(seconds)
    if seconds < 60:
        return "just now"
    unit, size = next((u, s) for u, s in (("d", 86400), ("h", 3600), ("min", 60)) if seconds >= s)
    amount = int(seconds // size)
    return f"in {amount} {unit}" if future else f"{amount} {unit} ago"


def human_time(moment: datetime | str | None, now: datetime | None = None) -> str:
    """'2026-11-30 16:48 · 21 h ago' in the current time zone; '—' for no time. Takes an ISO
    8601 string too (times kept in JSON, such as a ticket's context at intake)."""
    if isinstance(moment, str):
        moment = parse_datetime(moment)
    if moment is None:
        return "—"
    local = timezone.localtime(moment) if timezone.is_aware(moment) else moment
    return f"{local:%Y-%m-%d %H:%M} · {relative_age(moment, now)}"


def money(cents: int | None, currency: str = "usd") -> str:
    """'$2,388.00' from 238800 cents; other currencies keep their code ('1,000.00 SEK')."""
    if cents is None:
        return "—"
    amount = Decimal(cents) / 100
    symbol = CURRENCY_SYMBOLS.get((currency or "usd").lower())
    text = f"{abs(amount):,.2f}"
    sign = "-" if amount < 0 else ""
    return f"{sign}{symbol}{text}" if symbol else f"{sign}{text} {currency.upper()}"


def human_time_html(moment: datetime | str | None, now: datetime | None = None):
    """``human_time`` for a narrow table cell: the same text, which may break between the date
    and the age but never inside either."""
    text = human_time(moment, now)
    if " · " not in text:
        return text
    date_part, age = text.split(" · ", 1)
    return format_html(
        '<span class="oc-when-part">{}</span> · <span class="oc-when-part">{}</span>', date_part, age
    )


def house_value(value):
    """Any value as the console shows it: a time (``human_time``), a day (``2026-11-30``) or a
    time of day (``16:48``) in the house format; anything else as it is."""
    if isinstance(value, datetime):
        return human_time(value)
    if isinstance(value, date):
        return f"{value:%Y-%m-%d}"
    if isinstance(value, time):
        return f"{value:%H:%M}"
    return value
