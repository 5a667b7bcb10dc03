"""Indexes for the console's lists and searches at a million accounts (issue 14): each list's
order, and what its search asks. Searches match ids by prefix (a btree ``LIKE 'x%'``), emails by
case-insensitive prefix (a btree on ``UPPER(email)`` with ``text_pattern_ops``) and names and
summaries by contains (``pg_trgm`` GIN indexes on ``UPPER(...)``, which is what Django's
``icontains`` compares). They exist on PostgreSQL only (SQLite under ``make run`` has neither
the extension nor the operator classes, and its demo data needs no index): the models do not
declare them.
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

from opsconsole.pg_indexes import postgres_indexes

INDEXES = {
    # Each list's order (with the admin's pk tie-break) and the date hierarchy's MIN/MAX.
    "account_signup_recent_idx": "accounts_account (signed_up_at DESC, id DESC)",
    "event_recent_idx": "accounts_accountevent (occurred_at DESC, id DESC)",
    "exception_respond_by_idx": "accounts_opsexception (respond_by)",
    "exception_opened_idx": "accounts_opsexception (opened_at)",
    # The timeline's search by request id (most events have none).
    "event_request_idx": "accounts_accountevent (request_id) WHERE request_id <> ''",
    "account_name_trgm": "accounts_account USING gin (UPPER(name) gin_trgm_ops)",
    "account_email_prefix": "accounts_account (UPPER(admin_email) text_pattern_ops)",
    "exception_summary_trgm": "accounts_opsexception USING gin (UPPER(summary) gin_trgm_ops)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0009_rejected_events_from_intake"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(*postgres_indexes(INDEXES), elidable=False),
    ]
