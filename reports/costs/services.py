"""Edits of the cost model's inputs, by ops leads; history keeps every value they held."""

from accounts.models import Channel
from opsconsole.errors import PermissionRefused, ValidationFailed
from opsconsole.history import service
from reports.models import ChannelSpend, CostSettings

SETTINGS_FIELDS = (
    "support_hour_cents",
    "engineering_hour_cents",
    "minutes_per_ticket",
    "minutes_per_escalation",
    "dispute_fee_cents",
)
EDIT_PERMISSION = "reports.change_costsettings"
SPEND_PERMISSION = "reports.change_channelspend"


def _may(actor, permission: str) -> None:
    if actor is None or not actor.has_perm(permission):
        raise PermissionRefused("not_allowed", "Only an ops lead may change the cost model.")


MAX_AMOUNT_CENTS = 100_000_000_000  # a spend (bigint): past $1bn a month, a typo
MAX_INPUT = 2_147_483_647  # the cost inputs' columns are integers


def _amount(name: str, value, most: int = MAX_AMOUNT_CENTS) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        number = -1
    if not 0 <= number <= most:
        raise ValidationFailed(
            "invalid_amount", f"{name} must be a whole number from 0 to {most}.", {name: value}
        )
    return number


@service
def cost_settings_update(*, actor, **values) -> CostSettings:
    """Set some of the inputs (``SETTINGS_FIELDS``); an unknown name or a negative is refused."""
    _may(actor, EDIT_PERMISSION)
    unknown = set(values) - set(SETTINGS_FIELDS)
    if unknown:
        raise ValidationFailed(
            "unknown_field", f"Unknown input {sorted(unknown)[0]!r}.", {"fields": SETTINGS_FIELDS}
        )
    cleaned = {name: _amount(name, value, MAX_INPUT) for name, value in values.items()}
    CostSettings.objects.get_or_create(pk=1)
    current = CostSettings.objects.select_for_update().get(pk=1)
    changed = [name for name, value in cleaned.items() if getattr(current, name) != value]
    for name in changed:
        setattr(current, name, cleaned[name])
    if changed:
        current.save()
    return current


@service
def channel_spend_set(*, channel: Channel, monthly_spend_cents, actor) -> ChannelSpend:
    """Set a channel's acquisition spend per month (cents)."""
    _may(actor, SPEND_PERMISSION)
    amount = _amount("monthly_spend_cents", monthly_spend_cents)
    spend, created = ChannelSpend.objects.get_or_create(
        channel=channel, defaults={"monthly_spend_cents": amount}
    )
    if created:
        return spend
    spend = ChannelSpend.objects.select_for_update().get(pk=spend.pk)
    if spend.monthly_spend_cents != amount:
        spend.monthly_spend_cents = amount
        spend.save()
    return spend
