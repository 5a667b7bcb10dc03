from datetime import UTC, datetime, timedelta

import pytest

from opsconsole.formatting import human_time, money, relative_age

NOW = datetime(2026, 11, 30, 16, 48, tzinfo=UTC)


@pytest.mark.parametrize(
    ("delta", "expected"),
    [
        (timedelta(seconds=30), "just now"),
        (timedelta(minutes=5), "5 min ago"),
        (timedelta(hours=21, minutes=59), "21 h ago"),
        (timedelta(days=3, hours=2), "3 d ago"),
        (-timedelta(minutes=90), "in 1 h"),
    ],
)
def test_relative_age_names_the_largest_whole_unit(delta, expected):
    assert relative_age(NOW - delta, now=NOW) == expected


def test_human_time_shows_the_local_time_and_the_age(settings):
    settings.TIME_ZONE = "UTC"
    assert human_time(NOW - timedelta(hours=21), now=NOW) == "2026-11-29 19:48 · 21 h ago"
    assert human_time(None) == "—"


@pytest.mark.parametrize(
    ("cents", "currency", "expected"),
    [
        (238800, "usd", "$2,388.00"),
        (-550, "eur", "-€5.50"),
        (100000, "sek", "1,000.00 SEK"),
        (None, "usd", "—"),
    ],
)
def test_money_reads_as_money(cents, currency, expected):
    assert money(cents, currency) == expected


def test_human_time_reads_iso_strings_kept_in_json(settings):
    settings.TIME_ZONE = "UTC"
    assert human_time("2026-11-29T19:48:00+00:00", now=NOW) == "2026-11-29 19:48 · 21 h ago"
    assert human_time("not a time") == "—"
