"""Indexes for the ticket list's search at a million tickets (issue 14): external ids by
prefix, requester emails by case-insensitive prefix and subjects by contains (``pg_trgm``,
whose extension accounts. migration 0010 creates). PostgreSQL only, like those of accounts.
"""

from django.db import migrations

from opsconsole.pg_indexes import postgres_indexes

INDEXES = {
    "ticket_external_prefix": "routing_ticket (external_id varchar_pattern_ops)",
    "ticket_email_prefix": "routing_ticket (UPPER(requester_email) text_pattern_ops)",
    "ticket_subject_trgm": "routing_ticket USING gin (UPPER(subject) gin_trgm_ops)",
}


class Migration(migrations.Migration):
    dependencies = [
        ("routing", "0009_sla_breach_verbose_names"),
        ("accounts", "0010_list_and_search_indexes"),
    ]

    operations = [migrations.RunPython(*postgres_indexes(INDEXES), elidable=False)]
