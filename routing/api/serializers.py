from django.utils import timezone
from rest_framework import serializers

from routing.choices import Via
from routing.services.intake import INTAKE_LIMITS, MAX_BODY_CHARS, MAX_CLOCK_SKEW


class TicketIntakeSerializer(serializers.Serializer):
    source = serializers.CharField(max_length=INTAKE_LIMITS["source"])
    external_id = serializers.CharField(max_length=INTAKE_LIMITS["external_id"])
    account = serializers.CharField(max_length=64, required=False, allow_blank=True, allow_null=True)
    requester_email = serializers.EmailField(max_length=254)
    subject = serializers.CharField(max_length=INTAKE_LIMITS["subject"])
    body = serializers.CharField(max_length=MAX_BODY_CHARS, required=False, allow_blank=True, default="")
    error_code = serializers.CharField(
        max_length=INTAKE_LIMITS["error_code"], required=False, allow_blank=True, default=""
    )
    request_id = serializers.CharField(
        max_length=INTAKE_LIMITS["request_id"], required=False, allow_blank=True, default=""
    )
    feature_area = serializers.CharField(
        max_length=INTAKE_LIMITS["feature_area"], required=False, allow_blank=True, default=""
    )
    via = serializers.ChoiceField(
        choices=Via.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text="How the customer came in.",
    )
    created_at = serializers.DateTimeField(
        required=False,
        help_text="The help desk's own time of the ticket, for backfills and replays; defaults to now. "
        f"The SLA clocks start from it. More than {MAX_CLOCK_SKEW} ahead of our clock is refused.",
    )

    def validate_created_at(self, value):
        if value > timezone.now() + MAX_CLOCK_SKEW:
            raise serializers.ValidationError("created_at is in the future.")
        return value


class _TicketRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    source = serializers.CharField()
    external_id = serializers.CharField()
    account = serializers.CharField(allow_null=True)
    account_match = serializers.CharField()


class _RuleRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    key = serializers.CharField()
    name = serializers.CharField()
    rule_set_version = serializers.IntegerField()
    revision = serializers.IntegerField()


class _SlaSerializer(serializers.Serializer):
    policy = serializers.CharField(allow_null=True)
    owner_due_at = serializers.DateTimeField(allow_null=True)
    first_response_due_at = serializers.DateTimeField(allow_null=True)
    resolution_due_at = serializers.DateTimeField(allow_null=True)


class TicketIntakeResultSerializer(serializers.Serializer):
    """The routing decision as intake first gave it (a repeat returns the same answer)."""

    ticket = _TicketRefSerializer()
    category = serializers.CharField()
    severity = serializers.CharField()
    ticket_type = serializers.CharField(allow_null=True, required=False)
    queue = serializers.CharField()
    tier = serializers.IntegerField(required=False)
    owner = serializers.CharField(allow_null=True)
    status = serializers.CharField()
    rule = _RuleRefSerializer()
    reason = serializers.CharField()
    triggers = serializers.ListField(child=serializers.DictField())
    sla = _SlaSerializer()
    paged = serializers.BooleanField()
