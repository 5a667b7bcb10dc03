"""Indexes for the console's lists and searches at a million accounts (issue 14): each list's
order, and what its search asks. Searches match ids by prefix (a btree ``LIKE 'x%'``), emails by
case-insensitive prefix (a btree on ``UPPER(email)`` with ``text_pattern_ops``) and names and
summaries by contains (``pg_trgm`` GIN indexes on ``UPPER(...)``, which is what Django's
``icontains`` compares). The expression indexes exist on PostgreSQL only (SQLite under
``make run`` has neither the extension nor the operator classes, and needs no index there).
"""

from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

from opsconsole.pg_indexes import postgres_indexes

INDEXES = {
    "account_name_trgm": "accounts_account USING gin (UPPER(name) gin_trgm_ops)",
    "account_email_prefix": "accounts_account (UPPER(admin_email) text_pattern_ops)",
    "exception_summary_trgm": "accounts_opsexception USING gin (UPPER(summary) gin_trgm_ops)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_unattributed_channel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(*postgres_indexes(INDEXES), elidable=False),
        migrations.AddIndex(
            model_name="account",
            index=models.Index(fields=["-signed_up_at", "-id"], name="account_signup_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="accountevent",
            index=models.Index(fields=["-occurred_at", "-id"], name="event_recent_idx"),
        ),
        migrations.AddIndex(
            model_name="accountevent",
            index=models.Index(
                condition=models.Q(("request_id", ""), _negated=True),
                fields=["request_id"],
                name="event_request_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="opsexception",
            index=models.Index(fields=["respond_by"], name="exception_respond_by_idx"),
        ),
        migrations.AddIndex(
            model_name="opsexception",
            index=models.Index(fields=["opened_at"], name="exception_opened_idx"),
        ),
    ]
