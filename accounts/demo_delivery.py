"""When the demo's product events arrived. The seed records each account's events in one batch,
at the moment it runs; the company it pretends to be received them as they happened. Without
this, every event older than a day would count as late on the data-quality panel, which no
real intake shows.

Each product event of the demo is stamped as delivered a minute after it occurred, except about
one in ``LATE_ONE_IN`` (chosen from its event id, so a seed gives the same ones every time),
delivered ``LATE_BY`` later, as a product that queued events through an outage would send them
(never after now). Its late flag is then decided again from the stamp (``accounts.eventflags``).
"""

import zlib
from datetime import timedelta

from django.db.models import Case, F, Value, When
from django.db.models.functions import Least
from django.utils import timezone

from accounts.choices import EventSource
from accounts.eventflags import late_q
from accounts.models import AccountEvent

LATE_ONE_IN = 33  # about 3% of the product's events
LATE_BY = timedelta(hours=30)
ON_TIME_BY = timedelta(minutes=1)


def settle_delivery_times(*, prefix: str) -> int:
    """Stamp the delivery of the product events of the accounts ``<prefix>_*``; returns how
    many are late."""
    events = AccountEvent.objects.filter(
        account__external_id__startswith=f"{prefix}_", source=EventSource.PRODUCT
    )
    late = [pk for pk, event_id in events.values_list("pk", "event_id") if _late(event_id)]
    now = timezone.now()
    events.update(recorded_at=Least(F("occurred_at") + ON_TIME_BY, Value(now)))
    events.filter(pk__in=late).update(recorded_at=Least(F("occurred_at") + LATE_BY, Value(now)))
    events.update(late=Case(When(late_q(), then=Value(True)), default=Value(False)))
    return events.filter(late=True).count()


def _late(event_id: str) -> bool:
    return zlib.crc32(event_id.encode()) % LATE_ONE_IN == 0
