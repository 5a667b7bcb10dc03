"""When the demo's product events arrived. The seed records each account's events in one batch,
at the moment it runs; the company it pretends to be received them as they happened. Without
this, every event older than a day would count as late on the data-quality panel, which no
real intake shows.

Each product event of the demo's generated accounts (``<prefix>_<number>``; not the
walk-through accounts the other seeders add) is stamped as delivered a minute after it
occurred, except about one in ``LATE_ONE_IN`` (chosen from its event id, so a seed gives the
same ones every time), delivered ``LATE_BY`` later, as a product that queued events through an
outage would send them; never after the demo's anchor, so the stamps depend on the seed alone.
Its late flag is then decided again from the stamp, by the intake's own rule
(``accounts.eventflags.late_q``). The seeder writes the company's past: it is the one writer
that moves ``recorded_at``, which the intake otherwise writes once.
"""

import zlib
from datetime import datetime, timedelta

from django.db.models import Case, F, Value, When
from django.db.models.functions import Least

from accounts.choices import EventSource
from accounts.eventflags import late_q
from accounts.models import AccountEvent

LATE_ONE_IN = 33  # about 3% of the product's events
LATE_BY = timedelta(hours=30)
ON_TIME_BY = timedelta(minutes=1)
CHUNK = 500  # ids per statement, well inside SQLite's limit on parameters


def settle_delivery_times(*, prefix: str, anchor: datetime) -> int:
    """Stamp the delivery of the product events of the accounts ``<prefix>_<number>``;
    returns how many are late."""
    events = AccountEvent.objects.filter(
        account__external_id__regex=rf"^{prefix}_[0-9]+$", source=EventSource.PRODUCT
    )
    late = [pk for pk, event_id in events.values_list("pk", "event_id") if _late(event_id)]
    events.update(recorded_at=Least(F("occurred_at") + ON_TIME_BY, Value(anchor)))
    for start in range(0, len(late), CHUNK):
        chunk = AccountEvent.objects.filter(pk__in=late[start : start + CHUNK])
        chunk.update(recorded_at=Least(F("occurred_at") + LATE_BY, Value(anchor)))
    events.update(late=Case(When(late_q(), then=Value(True)), default=Value(False)))
    return events.filter(late=True).count()


def _late(event_id: str) -> bool:
    return zlib.crc32(event_id.encode()) % LATE_ONE_IN == 0
