"""Demo data for the guarded-actions walk-through: a walk-through seeder (accounts/apps.py
registers it; ``manage.py seed_demo`` runs it after every layer's base data).

Deterministic and idempotent: accounts and events have fixed ids and are skipped when present.
Runbooks come from migration opsconsole/0005.
"""

import random
from datetime import timedelta

from django.utils import timezone

from accounts.models import Account, Channel
from accounts.rules import applicable_steps
from accounts.services import EventInput, account_create, account_events_record, exception_open
from accounts.shapes import EVENT_STEP_TRANSITIONS

DEMO_CHANNEL = "actions-demo"

# external_id, name, shape, what happened (event type, error code) or an exception to open
DEMO_ACCOUNTS = [
    ("demo_import_timeout", "Northwind Imports", "self_serve_team", ("import.failed", "timeout")),
    ("demo_import_schema", "Blue Harbor Data", "self_serve_team", ("import.failed", "schema_error")),
    ("demo_invite_expired", "Cedar Analytics", "self_serve_team", ("invite.expired", "")),
    ("demo_plan_change", "Maple Logistics", "self_serve_team", None),
    ("demo_duplicate_original", "Orchid Health", "sales_assisted_business", None),
    ("demo_duplicate", "Orchid Health", "sales_assisted_business", "duplicate_account"),
]
# The duplicate signed up again under the original's name and admin email domain: the
# data-quality panel lists it as a duplicate-workspace candidate until it is marked.
ADMIN_EMAILS = {
    "demo_duplicate_original": "dana@orchid-health.example.com",
    "demo_duplicate": "sam@orchid-health.example.com",
}


def seed_demo(*, rng: random.Random, actor, stdout) -> None:
    channel, _ = Channel.objects.get_or_create(
        code=DEMO_CHANNEL,
        defaults={"name": "Guarded actions demo", "kind": "partner", "partner_name": "Demo"},
    )
    created = []
    now = timezone.now()
    for external_id, name, shape, happening in DEMO_ACCOUNTS:
        if Account.objects.filter(external_id=external_id).exists():
            continue
        signed_up = now - timedelta(hours=rng.randint(6, 72))
        account = account_create(
            external_id=external_id,
            name=name,
            admin_email=ADMIN_EMAILS.get(external_id, f"admin@{external_id.replace('_', '-')}.example.com"),
            shape=shape,
            channel=channel,
            signed_up_at=signed_up,
            actor=actor,
        )
        if isinstance(happening, tuple):
            event_type, error_code = happening
            # The steps before the failing one went through first, minutes apart, as they would.
            lead_up = [
                EventInput(
                    event_id=f"demo:{external_id}:{earlier}",
                    type=earlier,
                    occurred_at=signed_up + timedelta(minutes=minute),
                )
                for minute, earlier in enumerate(lead_up_event_types(account, event_type), start=1)
            ]
            account_events_record(
                account=account,
                events=[
                    *lead_up,
                    EventInput(
                        event_id=f"demo:{external_id}:{event_type}",
                        type=event_type,
                        occurred_at=signed_up + timedelta(minutes=rng.randint(10, 90)),
                        error_code=error_code,
                        request_id=f"req_demo_{rng.randrange(16**8):08x}",
                        feature_area="imports" if event_type.startswith("import") else "onboarding",
                    ),
                ],
                actor=actor,
            )
        elif happening:
            exception_open(
                account=account,
                reason_code=happening,
                summary="Same company and admin domain as demo_duplicate_original.",
                actor=actor,
            )
        created.append(external_id)
    stdout.write(f"guarded-actions demo accounts: {', '.join(created) or 'none'} created")


def lead_up_event_types(account: Account, failure_type: str) -> list[str]:
    """The events that bring ``account`` to the point where ``failure_type`` can happen: a
    success for each of its steps before the failing one, then the failing step's start (an
    import fails after it started, not while the workspace is still pending)."""
    failing_step = EVENT_STEP_TRANSITIONS[failure_type].step

    def first(step: str, outcome: str) -> list[str]:
        found = [t for t, tr in EVENT_STEP_TRANSITIONS.items() if tr.step == step and tr.outcome == outcome]
        return found[:1]

    types = []
    for step in applicable_steps(account):
        if step == failing_step:
            return types + first(step, "started")
        types += first(step, "succeeded")
    return types
