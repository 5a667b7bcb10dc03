"""API shapes for accounts: what the product sends (signups, events) and what it reads back."""

import json
from datetime import timedelta

from django.core.validators import RegexValidator
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.choices import EntitlementKind, ProvisioningStatus, ProvisioningStepName, StepStatus
from accounts.models import PLAN_CHOICES, SHAPE_CHOICES, Account, AccountEvent, Channel
from accounts.selectors import provisioning_status
from accounts.services.events import SYSTEM_EVENT_ID_PREFIX

# External ids appear in URL paths, so they are kept to characters that need no escaping.
external_id_validator = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$",
    "Use letters, digits and _ . : - (starting with a letter or digit).",
)
event_type_validator = RegexValidator(
    r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$",
    "A dotted lowercase name such as `import.failed`.",
)
# Steps refuse events older than the one that set them; an event dated far ahead by a wrong
# clock would freeze its step, so only ordinary clock skew is accepted.
MAX_CLOCK_SKEW = timedelta(minutes=15)
MAX_FLAGS = 20
# An event's free-form ``data`` is telemetry, not storage: bounded so a batch of 500 fits.
MAX_EVENT_DATA_BYTES = 4096
MAX_EVENT_DATA_DEPTH = 8
ENTITLEMENT_TYPES = [("feature", "Feature"), ("limit", "Limit")]


def _field_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


class AccountCreateSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        max_length=_field_length(Account, "external_id"), validators=[external_id_validator]
    )
    name = serializers.CharField(max_length=_field_length(Account, "name"))
    admin_email = serializers.EmailField(max_length=_field_length(Account, "admin_email"))
    shape = serializers.ChoiceField(
        choices=SHAPE_CHOICES,
        error_messages={"invalid_choice": 'Unknown shape "{input}".'},
    )
    channel = serializers.SlugRelatedField(
        slug_field="code",
        queryset=Channel.objects.all(),
        required=False,
        allow_null=True,
        error_messages={"does_not_exist": 'Unknown channel "{value}".'},
        help_text="The acquisition channel's code. Optional: a signup whose attribution was lost "
        "(missing or null) goes to the built-in `unattributed` channel and is never refused for it.",
    )
    plan = serializers.ChoiceField(
        choices=PLAN_CHOICES,
        required=False,
        error_messages={"invalid_choice": 'Unknown plan "{input}".'},
        help_text="Defaults to the shape's plan.",
    )
    signed_up_at = serializers.DateTimeField(required=False, help_text="Defaults to now.")
    utm_source = serializers.CharField(
        max_length=_field_length(Account, "utm_source"), required=False, allow_blank=True
    )
    utm_medium = serializers.CharField(
        max_length=_field_length(Account, "utm_medium"), required=False, allow_blank=True
    )
    utm_campaign = serializers.CharField(
        max_length=_field_length(Account, "utm_campaign"), required=False, allow_blank=True
    )
    partner = serializers.CharField(
        max_length=_field_length(Account, "partner"),
        required=False,
        allow_blank=True,
        help_text="Defaults to the channel's partner.",
    )
    flags = serializers.ListField(
        child=serializers.SlugField(max_length=50),
        required=False,
        max_length=MAX_FLAGS,
        help_text="Signup flags such as `white_glove` or `identity_review`.",
    )

    def validate_signed_up_at(self, value):
        if value > timezone.now() + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("signed_up_at is in the future.")
        return value


class BlockingSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=ProvisioningStepName.choices)
    reason_code = serializers.CharField()
    message = serializers.CharField(help_text="Written for the customer.")
    next_action = serializers.CharField(help_text="What the customer can do next.")
    help_url = serializers.URLField(
        allow_null=True, help_text="Tier 0: the help article that lets the customer fix it themselves."
    )


class ProvisioningStepSerializer(serializers.Serializer):
    step = serializers.ChoiceField(choices=ProvisioningStepName.choices)
    status = serializers.ChoiceField(choices=StepStatus.choices)
    updated_at = serializers.DateTimeField()


class ProvisioningStatusSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="The account's external_id.")
    status = serializers.ChoiceField(choices=ProvisioningStatus.choices)
    steps = ProvisioningStepSerializer(many=True)
    blocking = BlockingSerializer(allow_null=True)
    updated_at = serializers.DateTimeField()


class ProvisioningSummarySerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=ProvisioningStatus.choices)
    blocking = BlockingSerializer(allow_null=True)
    updated_at = serializers.DateTimeField()


class AccountSerializer(serializers.ModelSerializer):
    channel = serializers.SlugRelatedField(slug_field="code", read_only=True)
    flags = serializers.ListField(child=serializers.CharField(), read_only=True)
    provisioning = serializers.SerializerMethodField()

    class Meta:
        model = Account
        fields = [
            "external_id",
            "name",
            "admin_email",
            "shape",
            "plan",
            "channel",
            "utm_source",
            "utm_medium",
            "utm_campaign",
            "partner",
            "flags",
            "lifecycle_stage",
            "onboarding_path",
            "onboarding_path_reason",
            "signed_up_at",
            "activated_at",
            "created_at",
            "provisioning",
        ]
        read_only_fields = fields

    @extend_schema_field(ProvisioningSummarySerializer)
    def get_provisioning(self, account):
        return ProvisioningSummarySerializer(provisioning_status(account)).data


@extend_schema_field({"oneOf": [{"type": "boolean"}, {"type": "integer"}]})
class EntitlementValueField(serializers.Field):
    """``true`` for a feature, a number for a limit."""

    def to_representation(self, value):
        return value


class EntitlementSerializer(serializers.Serializer):
    key = serializers.CharField()
    type = serializers.ChoiceField(choices=ENTITLEMENT_TYPES)
    value = EntitlementValueField()
    granted_by = serializers.CharField(help_text="`shape:<code>`, `plan:<code>` or `override:<id>`.")
    kind = serializers.ChoiceField(choices=EntitlementKind.choices)
    temporary = serializers.BooleanField()
    beta = serializers.BooleanField()
    grandfathered = serializers.BooleanField()
    expires_at = serializers.DateTimeField(allow_null=True)


class EntitlementsSerializer(serializers.Serializer):
    account = serializers.CharField(help_text="The account's external_id.")
    entitlements = EntitlementSerializer(many=True)


def _json_problem(value, depth: int = 0) -> str | None:
    """Why a JSON value cannot be stored as-is: too deep, or a U+0000 that jsonb refuses."""
    if depth > MAX_EVENT_DATA_DEPTH:
        return f"Nested deeper than {MAX_EVENT_DATA_DEPTH} levels."
    if isinstance(value, str):
        return "Null characters are not allowed." if "\x00" in value else None
    if isinstance(value, dict):
        children = [*value.keys(), *value.values()]
    elif isinstance(value, list):
        children = value
    else:
        return None
    return next((p for p in (_json_problem(c, depth + 1) for c in children) if p), None)


class EventSerializer(serializers.Serializer):
    event_id = serializers.CharField(
        max_length=_field_length(AccountEvent, "event_id"), help_text="Unique; a repeat is a duplicate."
    )
    account = serializers.CharField(
        max_length=_field_length(Account, "external_id"), help_text="The account's external_id."
    )
    type = serializers.CharField(
        max_length=_field_length(AccountEvent, "type"), validators=[event_type_validator]
    )
    occurred_at = serializers.DateTimeField()
    request_id = serializers.CharField(
        max_length=_field_length(AccountEvent, "request_id"), required=False, allow_blank=True, default=""
    )
    error_code = serializers.CharField(
        max_length=_field_length(AccountEvent, "error_code"), required=False, allow_blank=True, default=""
    )
    feature_area = serializers.CharField(
        max_length=_field_length(AccountEvent, "feature_area"),
        required=False,
        allow_blank=True,
        default="",
    )
    data = serializers.DictField(
        required=False,
        default=dict,
        help_text=f"A free-form JSON object of at most {MAX_EVENT_DATA_BYTES} bytes.",
    )

    def validate_event_id(self, value):
        if value.startswith(SYSTEM_EVENT_ID_PREFIX):
            raise serializers.ValidationError(f"Ids starting with {SYSTEM_EVENT_ID_PREFIX!r} are reserved.")
        return value

    def validate_occurred_at(self, value):
        if value > timezone.now() + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("occurred_at is in the future.")
        return value

    def validate_data(self, value):
        problem = _json_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        if len(json.dumps(value)) > MAX_EVENT_DATA_BYTES:
            raise serializers.ValidationError(f"At most {MAX_EVENT_DATA_BYTES} bytes of JSON.")
        return value


def _judged_alone(help_text: str):
    return serializers.JSONField(required=False, help_text=help_text)


class EventIntakeBodySerializer(serializers.Serializer):
    """Only for the schema: what the endpoint takes is any JSON object, since each event is
    judged alone and its problems come back in ``rejected`` with a 200."""

    events = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        min_length=1,
        max_length=500,
        help_text="A batch: 1 to 500 event objects. Without it, the body is one event.",
    )
    event_id = _judged_alone("One event: string, unique; a repeat is a duplicate.")
    account = _judged_alone("One event: string, the account's external_id.")
    type = _judged_alone("One event: string, a dotted event type.")
    occurred_at = _judged_alone("One event: date-time, not in the future.")
    request_id = _judged_alone("One event: string, optional.")
    error_code = _judged_alone("One event: string, optional.")
    feature_area = _judged_alone("One event: string, optional.")
    data = _judged_alone("One event: object, optional, free-form.")


class RejectedEventSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="Position of the event in the request (0 for a single one).")
    errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), help_text="Field errors."
    )


class EventIntakeResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField(help_text="Events stored now.")
    duplicates = serializers.IntegerField(help_text="Events whose event_id was already stored.")
    rejected = RejectedEventSerializer(many=True)
