"""Builders the constraint-page tests share: a range around now, cohort accounts and exceptions."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.services import exception_open


@pytest.fixture
def window():
    """A 30-day range ending tomorrow (dates), as the pages default to."""
    today = timezone.now().date()
    return {"since": today - timedelta(days=29), "until": today + timedelta(days=1)}


@pytest.fixture
def hit(system):
    """``hit(account, reason_code)`` opens an exception of that reason on the account."""

    def _hit(account, reason: str, **kwargs):
        return exception_open(account=account, reason_code=reason, summary="test", actor=system, **kwargs)

    return _hit
