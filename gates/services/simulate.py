"""A simulated day of signups on a channel, through the accounts services (accounts and their
events), for rehearsing a ramp: ``manage.py simulate_ramp_day``."""

from datetime import UTC, date, datetime, time, timedelta

from accounts.models import Account
from accounts.services import EventInput, account_create, account_events_record
from accounts.shapes import SHAPES
from opsconsole.errors import ValidationFailed

SIMULATED_PREFIX = "sim"


def ramp_day_simulate(
    *, channel, day: date, signups: int, activation: float, shape: str = "free_trial", actor
) -> dict:
    """Create ``signups`` accounts signed up through ``day`` (UTC), of which the first
    ``round(signups × activation)`` activate within a few hours. Idempotent per (channel, day,
    shape, index): a rerun creates only the accounts not there yet."""
    if signups < 0 or not 0 <= activation <= 1:
        raise ValidationFailed("invalid_simulation", "signups >= 0 and 0 <= activation <= 1.")
    if shape not in SHAPES:
        raise ValidationFailed("unknown_shape", f"Unknown shape {shape!r}.")
    required = SHAPES[shape].activation.required_event_types
    activating = round(signups * activation)
    start = datetime.combine(day, time(0, 30), tzinfo=UTC)
    step = timedelta(minutes=(23 * 60) // max(signups, 1))
    ids = [f"{SIMULATED_PREFIX}-{channel.code}-{day.isoformat()}-{shape}-{i:05d}" for i in range(signups)]
    existing = set(Account.objects.filter(external_id__in=ids).values_list("external_id", flat=True))
    created = 0
    for i, external_id in enumerate(ids):
        if external_id in existing:
            continue
        signed_up_at = start + step * i
        account = account_create(
            external_id=external_id,
            name=f"Simulated {channel.code} {day} #{i + 1}",
            admin_email=f"{external_id}@example.test",
            shape=shape,
            channel=channel,
            signed_up_at=signed_up_at,
            actor=actor,
        )
        events = []
        if i < activating:
            events = [
                EventInput(
                    event_id=f"{external_id}:{n}", type=t, occurred_at=signed_up_at + timedelta(hours=1 + n)
                )
                for n, t in enumerate(required)
            ]
        else:
            events = [
                EventInput(event_id=f"{external_id}:login", type="user.login", occurred_at=signed_up_at)
            ]
        account_events_record(account=account, events=events, actor=actor)
        created += 1
    return {"created": created, "skipped": len(existing), "activating": activating, "signups": signups}
