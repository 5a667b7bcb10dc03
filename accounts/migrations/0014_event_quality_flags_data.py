"""The data-quality flags of the events recorded before the intake decided them, and the partial
indexes the data-quality panel reads them through (``accounts/eventflags.py``).

Each UPDATE touches only the rows it flags (every row starts false). ``late`` is decided with
``REPORTS_LATE_EVENT_HOURS`` as it stands now, and that threshold is recorded as the flags'
basis. The indexes are built after the flags are set, on PostgreSQL only (like 0010: SQLite
under ``make run`` holds demo data that needs none); the bulk loader drops and rebuilds them
with every other index of the timeline (``bench/bulk_indexes.py`` reads them from the catalogue).
"""

from datetime import timedelta

from django.conf import settings
from django.db import migrations
from django.db.models import F
from django.utils import timezone

from opsconsole.pg_indexes import postgres_indexes

PRODUCT = "product"  # accounts.choices.EventSource.PRODUCT, as stored

INDEXES = {
    # Late events per day of occurred_at, optionally of one channel: an index-only scan.
    "event_late_day_idx": "accounts_accountevent (occurred_at, channel_id) WHERE late",
    # Events before signup, joined to the cohort's accounts.
    "event_before_signup_idx": "accounts_accountevent (account_id) WHERE before_signup",
}


def flag_recorded_events(apps, schema_editor):
    AccountEvent = apps.get_model("accounts", "AccountEvent")
    EventFlagBasis = apps.get_model("accounts", "EventFlagBasis")
    hours = float(settings.REPORTS_LATE_EVENT_HOURS)
    AccountEvent.objects.filter(
        source=PRODUCT, recorded_at__gt=F("occurred_at") + timedelta(hours=hours)
    ).update(late=True)
    AccountEvent.objects.filter(source=PRODUCT, occurred_at__lt=F("account__signed_up_at")).update(
        before_signup=True
    )
    EventFlagBasis.objects.update_or_create(
        pk=1, defaults={"late_event_hours": hours, "decided_at": timezone.now()}
    )


def unflag(apps, schema_editor):
    apps.get_model("accounts", "EventFlagBasis").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0013_event_quality_flags"),
    ]

    operations = [
        migrations.RunPython(flag_recorded_events, unflag, elidable=False),
        migrations.RunPython(*postgres_indexes(INDEXES), elidable=False),
    ]
