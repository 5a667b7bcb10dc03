"""What routing cannot work without: the queues the code sends to, a business calendar, general
SLA policies per severity, and an active rule set holding the catch-all rule."""

from datetime import time

from django.db import migrations

QUEUES = [
    ("triage", "Triage", "support"),
    ("ops", "Ops (known exceptions with a runbook)", "ops_lead"),
    ("engineering-triage", "Engineering triage", "engineering"),
]

# name, severity, business hours (else around the clock), owner, first response, resolution (minutes)
POLICIES = [
    ("sev1 general", "sev1", False, 15, 30, 4 * 60),
    ("sev2 general", "sev2", True, 15, 60, 8 * 60),
    ("sev3 general", "sev3", True, 60, 4 * 60, 24 * 60),
    ("sev4 general", "sev4", True, 4 * 60, 8 * 60, 40 * 60),
]


def seed(apps, schema_editor):
    Queue = apps.get_model("routing", "Queue")
    BusinessCalendar = apps.get_model("routing", "BusinessCalendar")
    SlaPolicy = apps.get_model("routing", "SlaPolicy")
    RuleSet = apps.get_model("routing", "RuleSet")
    RoutingRule = apps.get_model("routing", "RoutingRule")
    for code, name, team in QUEUES:
        Queue.objects.get_or_create(code=code, defaults={"name": name, "team": team})
    calendar, _ = BusinessCalendar.objects.get_or_create(
        name="Business hours (UTC)",
        defaults={"timezone": "UTC", "weekdays": [0, 1, 2, 3, 4], "day_start": time(9), "day_end": time(17)},
    )
    for name, severity, business_hours, owner, first, resolution in POLICIES:
        SlaPolicy.objects.get_or_create(
            name=name,
            defaults={
                "severity": severity,
                "calendar": calendar,
                "business_hours": business_hours,
                "owner_minutes": owner,
                "first_response_minutes": first,
                "resolution_minutes": resolution,
            },
        )
    if not RuleSet.objects.exists():
        rule_set = RuleSet.objects.create(version=1, status="active", note="Initial: everything to triage.")
        RoutingRule.objects.create(
            rule_set=rule_set,
            key="catch-all",
            name="Catch-all: triage",
            priority=10_000,
            is_default=True,
            match="all",
            conditions=[],
            category="documentation",
            severity="sev4",
            queue=Queue.objects.get(code="triage"),
        )


class Migration(migrations.Migration):
    dependencies = [("routing", "0001_tickets_rules_queues_sla")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
