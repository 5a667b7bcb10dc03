"""Two data-quality facts about a product event, decided once, when the event is recorded, and
stored on its row (``AccountEvent.before_signup`` and ``AccountEvent.late``), so that the
data-quality panel (``reports.quality``) counts and lists only the flagged rows, through
partial indexes, instead of reading every event of its range.

- ``before_signup``: a product event that occurred before its account's ``signed_up_at``.
  Decided for good at intake: ``signed_up_at`` is written once, by ``account_create`` (a
  backfilled signup passes it there) or by the bulk loader, and nothing changes it afterwards
  (no service writes it; the admin has no edit form). An event is recorded only for an account
  that exists (the intake refuses one naming no account, ``RejectedEvent``), so no event is
  recorded before its account's signup time is known.
- ``late``: a product event recorded more than ``REPORTS_LATE_EVENT_HOURS`` after it occurred.
  ``recorded_at`` and ``occurred_at`` never change, but the setting can: a flag is decided with
  the threshold of its day. ``EventFlagBasis`` holds the threshold every stored flag was
  decided with; the panel reads the flags only while it equals the setting, and otherwise reads
  the definition itself from every event of the range (exact, slow) until
  ``manage.py rebuild_event_flags`` decides every flag again with the setting of now.

A separate module of ``accounts.models`` (the app's ``import_models`` loads it), like
``accounts.rejections``, to keep that module in bounds.
"""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import models
from django.db.models import F, Q

from accounts.choices import EventSource

BASIS_PK = 1


class EventFlagBasis(models.Model):
    """One row: the ``REPORTS_LATE_EVENT_HOURS`` every stored ``AccountEvent.late`` was
    decided with (written by the migration that added the flags, and by
    ``rebuild_event_flags``). Technical state, not a domain record: no history."""

    late_event_hours = models.FloatField()
    decided_at = models.DateTimeField()

    def __str__(self):
        return f"late events flagged at > {self.late_event_hours} h"


def late_delay() -> timedelta:
    """How long after it occurred an event may be recorded without being late."""
    return timedelta(hours=settings.REPORTS_LATE_EVENT_HOURS)


def is_late(*, source: str, occurred_at: datetime, recorded_at: datetime) -> bool:
    return source == EventSource.PRODUCT and recorded_at > occurred_at + late_delay()


def is_before_signup(*, source: str, occurred_at: datetime, signed_up_at: datetime) -> bool:
    return source == EventSource.PRODUCT and occurred_at < signed_up_at


def late_q() -> Q:
    """``is_late`` as a condition on events, for reading or re-deciding stored rows."""
    return Q(source=EventSource.PRODUCT, recorded_at__gt=F("occurred_at") + late_delay())


def before_signup_q() -> Q:
    """``is_before_signup`` as a condition on events."""
    return Q(source=EventSource.PRODUCT, occurred_at__lt=F("account__signed_up_at"))


def late_flags_current() -> bool:
    """Whether every stored ``late`` flag was decided with today's ``REPORTS_LATE_EVENT_HOURS``."""
    return EventFlagBasis.objects.filter(
        pk=BASIS_PK, late_event_hours=float(settings.REPORTS_LATE_EVENT_HOURS)
    ).exists()
