"""Tiers for the queues the code routes to (engineering triage is tier 3, ops tier 2), and SLA
policies per way in: chat answered within 1 h, email within 4 h, and tier-1 resolution within
24 h, on the business calendar. Severities 1 and 2 keep their tighter general policies."""

from django.db import migrations

TIERS = {"triage": 1, "ops": 2, "engineering-triage": 3}

# via, severity, owner, first response, resolution (business minutes)
POLICIES = [
    ("chat", "sev3", 60, 60, 24 * 60),
    ("chat", "sev4", 60, 60, 24 * 60),
    ("email", "sev3", 60, 4 * 60, 24 * 60),
    ("email", "sev4", 4 * 60, 4 * 60, 24 * 60),
]


def seed(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    BusinessCalendar = apps.get_model("routing", "BusinessCalendar")
    SlaPolicy = apps.get_model("routing", "SlaPolicy")
    for code, tier in TIERS.items():
        Queue.objects.filter(code=code).update(tier=tier)
    calendar = BusinessCalendar.objects.filter(name="Business hours (UTC)").first()
    if calendar is None:
        return
    for via, severity, owner, first, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(
            name=f"{via} {severity}",
            defaults={
                "severity": severity,
                "via": via,
                "calendar": calendar,
                "business_hours": True,
                "owner_minutes": owner,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0006_support_helpdesk_sync_tiers_known_issues")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
