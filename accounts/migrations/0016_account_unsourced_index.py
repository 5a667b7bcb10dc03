"""The data-quality panel's accounts with no channel source (``reports.quality``): a range's
signups of the paid and partner channels that came without a ``utm_source``. The panel names
those channels by id, so this partial index of the unsourced signups by (channel, signup time)
gives it one index range per channel instead of every account of the range. PostgreSQL only,
like 0010 and 0015.
"""

from django.db import migrations

from opsconsole.pg_indexes import postgres_indexes

INDEXES = {
    "account_unsourced_idx": "accounts_account (channel_id, signed_up_at) WHERE utm_source = ''",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0015_account_namesake_index"),
    ]

    operations = [
        migrations.RunPython(*postgres_indexes(INDEXES), elidable=False),
    ]
