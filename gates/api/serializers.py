"""The ramp-status document (DESIGN.md), for the OpenAPI schema."""

from rest_framework import serializers

from gates.choices import Outcome, RampStatus, RuleOutcome


class RampSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=RampStatus.choices)
    current_step = serializers.CharField(help_text='The current step\'s label, e.g. "1.5x now".')
    next_review = serializers.DateField(allow_null=True)


class DecisionSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    signed_at = serializers.DateTimeField()
    signed_by = serializers.CharField(help_text="The signer's username.")
    review = serializers.IntegerField(help_text="The gate review the decision closed.")


class StopRuleStatusSerializer(serializers.Serializer):
    name = serializers.CharField()
    metric = serializers.CharField(help_text="A metric code of METRICS.md.")
    outcome = serializers.ChoiceField(choices=RuleOutcome.choices)
    evaluated_at = serializers.DateTimeField(allow_null=True)
    measured = serializers.DictField(
        help_text="What the evaluation measured: each mature period's value, sample and breach, the "
        "baseline where the rule compares with one, immature periods ignored, and the reason."
    )


class RampStatusSerializer(serializers.Serializer):
    channel = serializers.CharField()
    may_ramp = serializers.BooleanField(
        help_text="True only for a ramping plan whose latest signed decision is proceed and where no "
        "stop rule is tripped or held for insufficient data."
    )
    ramp = RampSerializer(allow_null=True)
    decision = DecisionSerializer(allow_null=True, help_text="The latest signed decision.")
    stop_rules = StopRuleStatusSerializer(many=True)
    tripped = serializers.BooleanField()
