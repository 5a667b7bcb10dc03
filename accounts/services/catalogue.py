"""The catalogues staff edit in the console: acquisition channels and reason codes' wording."""

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction

from accounts.models import Channel, ReasonCode
from opsconsole.errors import Conflict, ValidationFailed
from opsconsole.history import service

CHANNEL_EDITABLE_FIELDS = ("name", "kind", "partner_name", "support_sla_minutes", "managed_onboarding")
# Ops leads tune what customers read; the code, layer and team stay as the code expects them.
REASON_CODE_EDITABLE_FIELDS = ("title", "customer_message", "customer_next_action")


def _apply_changes(obj, changes: dict, allowed: tuple[str, ...]) -> None:
    refused = sorted(set(changes) - set(allowed))
    if refused:
        raise ValidationFailed(
            "field_not_editable",
            f"These fields cannot be changed here: {', '.join(refused)}.",
            {"fields": refused},
        )
    for name, value in changes.items():
        setattr(obj, name, value)
    try:
        obj.full_clean()
    except DjangoValidationError as exc:
        raise ValidationFailed("invalid_fields", "Some values are not valid.", exc.message_dict) from exc
    obj.save()


@service
def channel_create(
    *,
    code: str,
    name: str,
    kind: str,
    partner_name: str = "",
    support_sla_minutes: int | None = None,
    managed_onboarding: bool = False,
    actor,
) -> Channel:
    try:
        with transaction.atomic():
            return Channel.objects.create(
                code=code,
                name=name,
                kind=kind,
                partner_name=partner_name,
                support_sla_minutes=support_sla_minutes,
                managed_onboarding=managed_onboarding,
            )
    except IntegrityError as exc:
        raise Conflict("channel_exists", f"A channel with code {code!r} already exists.") from exc


@service
def channel_update(*, channel: Channel, changes: dict, actor) -> Channel:
    channel = Channel.objects.select_for_update().get(pk=channel.pk)
    _apply_changes(channel, changes, CHANNEL_EDITABLE_FIELDS)
    return channel


@service
def reason_code_update(*, reason_code: ReasonCode, changes: dict, actor) -> ReasonCode:
    reason_code = ReasonCode.objects.select_for_update().get(pk=reason_code.pk)
    _apply_changes(reason_code, changes, REASON_CODE_EDITABLE_FIELDS)
    return reason_code
