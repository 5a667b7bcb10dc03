"""The data-quality panel's duplicate-workspace candidates (``reports.quality``): an unmarked
account with an unmarked namesake of a lower id (name case aside, same admin email domain). The
search probes, per account of the range, this index of the unmarked accounts by exactly the
expressions the selector compares (Django's ``Lower``, ``Substr`` and ``StrIndex``), instead
of reading every account. PostgreSQL only, like 0010.
"""

from django.db import migrations

from opsconsole.pg_indexes import postgres_indexes

INDEXES = {
    "account_namesake_idx": "accounts_account "
    "(LOWER(name), LOWER(SUBSTRING(admin_email, STRPOS(admin_email, '@') + 1)), id) "
    "WHERE duplicate_of_id IS NULL",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0014_event_quality_flags_data"),
    ]

    operations = [
        migrations.RunPython(*postgres_indexes(INDEXES), elidable=False),
    ]
