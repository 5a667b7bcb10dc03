"""pg_trgm, for grouping tickets by subject similarity on the triage page (a no-op elsewhere)."""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("routing", "0007_seed_tiers_and_channel_sla_policies")]

    operations = [TrigramExtension()]
